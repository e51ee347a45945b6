// `conplyent run <target> <command> [args…]`: any registered command on every selected host.
import type { Command } from 'commander';
import type { VerbContext } from './common.js';
import { collect, defineVerb, parsePairs, withFleet } from './common.js';
import type { ExitStatus } from './exit-codes.js';
import { JobRenderer, type RenderOptions } from './render-job.js';

/** Runs one command and renders it: the path shared by run, exec, kill, input, jobs and ping. */
export async function runAndRender(
  ctx: VerbContext,
  target: string | string[],
  command: string,
  args: unknown[],
  opts: Record<string, unknown> = {},
  render: RenderOptions = {},
  cwd?: string,
): Promise<ExitStatus> {
  // Output is printed as it streams; keeping it for the results too would grow without bound (salt #27323).
  const job = ctx.fleet.run(target, command, args, { opts, timeoutMs: ctx.cfg.timeoutMs, ttlMs: ctx.cfg.ttlMs, keepOutput: false, ...(cwd ? { cwd } : {}) });
  const stop = interruptNotice(ctx, job.id, job.expected);
  try {
    const { exit } = await new JobRenderer(ctx.out, job, render).follow({ target, args });
    return exit;
  } finally {
    stop();
  }
}

/** Ctrl-C leaves the job running on the hosts; say how to follow or stop it. */
function interruptNotice(ctx: VerbContext, job: string, hosts: readonly string[]): () => void {
  const onInt = () => {
    const h = hosts[0] ?? '<host>';
    ctx.out.stderr.write(`\ninterrupted: job ${job} keeps running on the hosts; follow it with \`conplyent attach ${h} ${job}\`, stop it with \`conplyent kill ${h} ${job}\`\n`);
    process.exit(130);
  };
  process.once('SIGINT', onInt);
  return () => process.removeListener('SIGINT', onInt);
}

export function registerRun(program: Command): void {
  defineVerb(program, 'run <target> <command> [args...]', 'run a command on every host the target selects, streaming output per host', [
    'conplyent run web-1 ls /var/log',
    "conplyent run 'web-*' cwd",
    'conplyent run role=web,env=prod os_info --json | jq .',
    'conplyent run all exec -- uname -a              # args that start with - go after --',
    'conplyent run db-1 wrfile /tmp/motd "hello" -o append=true',
  ])
    .option('-o, --opt <key=value>', 'command option, repeatable (numbers, true/false as in text commands)', collect)
    .option('--cwd <dir>', 'working directory for this command only')
    .action(async (target: string, command: string, args: string[], _o: unknown, cmd: Command) => {
      await withFleet(cmd, (ctx) => runAndRender(ctx, target, command, args, parsePairs(cmd.opts().opt, 'option'), {}, cmd.opts().cwd));
    });
}
