// `conplyent input <target> <job> <text>`: write to a running job's stdin on every selected host.
import type { Command } from 'commander';
import { defineVerb, targetOf, withFleet } from './common.js';
import { runAndRender } from './run.js';

export function registerInput(program: Command): void {
  defineVerb(program, 'input <target> <job> <text>', "write a line to a running job's stdin on every selected host", [
    'conplyent input web-1 V1StGXR8_Z5jdHi6B-myT yes',
    'conplyent input role=web V1StGXR8_Z5jdHi6B-myT yes      # every host that runs it',
    'conplyent input web-1 V1StGXR8_Z5jdHi6B-myT "partial" --no-newline',
    'conplyent input web-1 V1StGXR8_Z5jdHi6B-myT "" --end       # close stdin',
  ])
    .option('--no-newline', 'do not append a newline to the text')
    .option('--end', 'close the job\'s stdin afterwards')
    .action(async (target: string, job: string, text: string, _o: unknown, cmd: Command) => {
      const o = cmd.opts();
      const opts = { ...(o.newline !== false && text !== '' ? { newline: true } : {}), ...(o.end ? { end: true } : {}) };
      await withFleet(cmd, target, (ctx) => runAndRender(ctx, { target: targetOf(cmd, target), command: 'send_input', args: [job, text], opts, render: { control: { verb: 'input', job } } }));
    });
}
