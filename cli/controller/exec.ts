// `conplyent exec <target> -- <program> [args…]`: shorthand for `run <target> exec <program> …`.
import type { Command } from 'commander';
import { collect, defineVerb, parsePairs, targetOf, UsageError, withFleet } from './common.js';
import { addJobOptions, jobFlags } from './job-flags.js';
import { addBatchOptions, batchOptions, runAndRender } from './run.js';

export function registerExec(program: Command): void {
  const exec = defineVerb(program, 'exec <target> <program> [args...]', 'start a program on every selected host (no shell unless --shell); put -- before the program', [
    'conplyent exec all -- uname -a',
    "conplyent exec 'web-*' --timeout 60 -- systemctl restart nginx   # options before --",
    "conplyent exec 'web[01-20]' -x web07 --fold -- cat /etc/os-release",
    'conplyent exec all --kill-after 3600 --timeout 60 -- apt-get -y upgrade   # wait 60 s, end it after an hour',
    'conplyent exec role=db --async -- /usr/local/bin/backup   # prints the job id; conplyent attach role=db JOB later',
    "conplyent exec role=db --shell -- 'df -h | grep data'",
    'conplyent exec web-1 --env LANG=C -- ls -l /etc',
    'conplyent exec role=web --batch 5 --max-failures 1 -- systemctl restart nginx   # rolling, stops on failures',
    'conplyent exec all --json -- uptime | jq -r \'select(.type=="final") | "\\(.host) \\(.state)"\'',
  ])
    .option('--shell', 'run the command line through the host shell (sh -c / cmd.exe)')
    .option('--env <key=value>', 'environment variable for the program, repeatable', collect)
    .option('--cwd <dir>', 'working directory for this command only');
  addJobOptions(addBatchOptions(exec)).action(async (target: string, program: string, args: string[], _o: unknown, cmd: Command) => {
      await withFleet(cmd, target, (ctx) => {
        const o = cmd.opts();
        const env = Object.fromEntries(Object.entries(parsePairs(o.env, '--env')).map(([k, v]) => [k, String(v)]));
        if (!program) throw new UsageError('give the program after --, e.g. conplyent exec all -- uptime');
        const opts = { ...(o.shell ? { shell: true } : {}), ...(Object.keys(env).length ? { env } : {}) };
        return runAndRender(ctx, { target: targetOf(cmd, target), command: 'exec', args: [program, ...args], opts, cwd: o.cwd, batches: batchOptions(cmd), flags: jobFlags(cmd) });
      });
    });
}
