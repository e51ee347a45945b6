// `conplyent exec <target> -- <program> [args…]`: shorthand for `run <target> exec <program> …`.
import type { Command } from 'commander';
import { collect, defineVerb, parsePairs, UsageError, withFleet } from './common.js';
import { addBatchOptions, batchOptions, runAndRender } from './run.js';

export function registerExec(program: Command): void {
  const exec = defineVerb(program, 'exec <target> <program> [args...]', 'start a program on every selected host (no shell unless --shell); put -- before the program', [
    'conplyent exec all -- uname -a',
    "conplyent exec 'web-*' -- systemctl restart nginx --timeout 60",
    "conplyent exec role=db --shell -- 'df -h | grep data'",
    'conplyent exec web-1 --env LANG=C -- ls -l /etc',
    'conplyent exec role=web --batch 5 --max-failures 1 -- systemctl restart nginx   # rolling, stops on failures',
    'conplyent exec all --json -- uptime | jq -r \'select(.type=="final") | "\\(.host) \\(.state)"\'',
  ])
    .option('--shell', 'run the command line through the host shell (sh -c / cmd.exe)')
    .option('--env <key=value>', 'environment variable for the program, repeatable', collect)
    .option('--cwd <dir>', 'working directory for this command only');
  addBatchOptions(exec).action(async (target: string, program: string, args: string[], _o: unknown, cmd: Command) => {
      await withFleet(cmd, (ctx) => {
        const o = cmd.opts();
        const env = Object.fromEntries(Object.entries(parsePairs(o.env, '--env')).map(([k, v]) => [k, String(v)]));
        if (!program) throw new UsageError('give the program after --, e.g. conplyent exec all -- uptime');
        const opts = { ...(o.shell ? { shell: true } : {}), ...(Object.keys(env).length ? { env } : {}) };
        return runAndRender(ctx, { target, command: 'exec', args: [program, ...args], opts, cwd: o.cwd, batches: batchOptions(cmd) });
      });
    });
}
