// `conplyent input <host> <job> <text>`: write to a running job's stdin.
import type { Command } from 'commander';
import { defineVerb, withFleet } from './common.js';
import { runAndRender } from './run.js';

export function registerInput(program: Command): void {
  defineVerb(program, 'input <host> <job> <text>', "write a line to a running job's stdin on a host", [
    'conplyent input web-1 V1StGXR8_Z5jdHi6B-myT yes',
    'conplyent input web-1 V1StGXR8_Z5jdHi6B-myT "partial" --no-newline',
    'conplyent input web-1 V1StGXR8_Z5jdHi6B-myT "" --end       # close stdin',
  ])
    .option('--no-newline', 'do not append a newline to the text')
    .option('--end', 'close the job\'s stdin afterwards')
    .action(async (host: string, job: string, text: string, _o: unknown, cmd: Command) => {
      const o = cmd.opts();
      const opts = { ...(o.newline !== false && text !== '' ? { newline: true } : {}), ...(o.end ? { end: true } : {}) };
      await withFleet(cmd, (ctx) => runAndRender(ctx, { target: [host], command: 'send_input', args: [job, text], opts }));
    });
}
