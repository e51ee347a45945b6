// `conplyent kill <host> <job>`: end a job's whole process tree on a host.
import type { Command } from 'commander';
import { defineVerb, withFleet } from './common.js';
import { runAndRender } from './run.js';

export function registerKill(program: Command): void {
  defineVerb(program, 'kill <host> <job>', "end a running job's process tree on a host (SIGKILL follows if it lingers)", [
    'conplyent kill web-1 V1StGXR8_Z5jdHi6B-myT',
    'conplyent kill web-1 V1StGXR8_Z5jdHi6B-myT --signal SIGINT',
  ])
    .option('--signal <name>', 'signal to send first (default SIGTERM)')
    .action(async (host: string, job: string, _o: unknown, cmd: Command) => {
      const signal = cmd.opts().signal as string | undefined;
      await withFleet(cmd, (ctx) => runAndRender(ctx, { target: [host], command: 'kill', args: [job], opts: signal ? { signal } : {} }));
    });
}
