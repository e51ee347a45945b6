// `conplyent kill <target> <job>`: end a job's whole process tree on every selected host.
import type { Command } from 'commander';
import { defineVerb, targetOf, withFleet } from './common.js';
import { runAndRender } from './run.js';

const EXAMPLES = [
  'conplyent kill web-1 V1StGXR8_Z5jdHi6B-myT',
  'conplyent kill role=web V1StGXR8_Z5jdHi6B-myT          # every host that runs it',
  "conplyent kill 'web-[1-3]' V1StGXR8_Z5jdHi6B-myT --signal SIGINT",
];

export function registerKill(program: Command): void {
  defineVerb(program, 'kill <target> <job>', "end a running job's process tree on every selected host (SIGKILL follows if it lingers)", EXAMPLES)
    .option('--signal <name>', 'signal to send first (default SIGTERM)')
    .action(async (target: string, job: string, _o: unknown, cmd: Command) => {
      const signal = cmd.opts().signal as string | undefined;
      await withFleet(cmd, target, (ctx) => runAndRender(ctx, { target: targetOf(cmd, target), command: 'kill', args: [job], opts: signal ? { signal } : {}, render: { control: { verb: 'kill', job } } }));
    });
}
