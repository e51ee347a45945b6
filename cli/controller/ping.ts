// `conplyent ping [target]`: which hosts answer, and the round trip through the broker.
import type { Command } from 'commander';
import { defineVerb, targetOf, withFleet } from './common.js';
import { runAndRender } from './run.js';

export function registerPing(program: Command): void {
  defineVerb(program, 'ping [target]', 'ask every selected host (default all) to answer; prints the round trip through the broker', [
    'conplyent ping',
    "conplyent ping 'web-*' --timeout 5",
    'conplyent ping role=db --json | jq -r \'select(.type=="final") | "\\(.host) \\(.state)"\'',
  ]).action(async (target: string | undefined, _o: unknown, cmd: Command) => {
    await withFleet(cmd, target, async (ctx) => {
      const sent = Date.now();
      return runAndRender(ctx, { target: targetOf(cmd, target ?? 'all'), command: 'ping', render: { formatValue: () => `pong in ${Date.now() - sent} ms`, alwaysSummary: true } });
    });
  });
}
