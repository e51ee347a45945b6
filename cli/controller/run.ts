// `conplyent run <target> <command> [args…]`: any registered command on every selected host.
import { InvalidArgumentError, type Command } from 'commander';
import type { VerbContext } from './common.js';
import { collect, defineVerb, parsePairs, UsageError, withFleet } from './common.js';
import { Exit, worse, type ExitStatus } from './exit-codes.js';
import type { RunOptions } from '../../controller/fleet.js';
import { rollout } from '../../controller/rollout.js';
import { JobRenderer, type RenderOptions } from './render-job.js';

/** One command to run and render: what run, exec, kill, input, jobs and ping each fill in. */
export interface RunRequest {
  target: string | string[];
  command: string;
  args?: unknown[];
  /** Named options of the command (the envelope's `opts`). */
  opts?: Record<string, unknown>;
  render?: RenderOptions;
  cwd?: string;
  /** --batch / --max-failures; absent: one job to every selected host at once. */
  batches?: BatchOptions;
}

export interface BatchOptions {
  batch?: number;
  maxFailures?: number;
}

/** The library's run options for a verb: config timeouts, and output streamed rather than kept. */
function runOptions(ctx: VerbContext, req: RunRequest): RunOptions {
  // Output is printed as it streams; keeping it for the results too would grow without bound (salt #27323).
  return { opts: req.opts ?? {}, timeoutMs: ctx.cfg.timeoutMs, ttlMs: ctx.cfg.ttlMs, keepOutput: false, ...(req.cwd ? { cwd: req.cwd } : {}) };
}

/** Runs one command and renders it: the path shared by run, exec, kill, input, jobs and ping. */
export async function runAndRender(ctx: VerbContext, req: RunRequest): Promise<ExitStatus> {
  if (req.batches?.batch !== undefined) return runInBatches(ctx, req, req.batches);
  const { target, command, args = [], render = {} } = req;
  const job = ctx.fleet.run(target, command, args, runOptions(ctx, req));
  const stop = interruptNotice(ctx, job.id, job.expected);
  try {
    const { exit } = await new JobRenderer(ctx.out, job, render).follow({ target, args });
    return exit;
  } finally {
    stop();
  }
}

/** --batch / --max-failures: one job per batch, each rendered as it runs; stops past the failure budget. */
async function runInBatches(ctx: VerbContext, req: RunRequest, b: BatchOptions): Promise<ExitStatus> {
  const { target, command, args = [], render = {} } = req;
  let exit: ExitStatus = Exit.OK;
  const r = await rollout(ctx.fleet, target, command, args, {
    ...runOptions(ctx, req),
    batchSize: b.batch!,
    maxFailures: b.maxFailures,
    onBatch: async (job, n, hosts) => {
      if (!ctx.out.json) ctx.out.stderr.write(ctx.out.style.dim(`batch ${n}: ${hosts.join(', ')}`) + '\n');
      const stop = interruptNotice(ctx, job.id, job.expected);
      try {
        exit = worse(exit, (await new JobRenderer(ctx.out, job, render).follow({ target, args, batch: n })).exit);
      } finally {
        stop();
      }
    },
  });
  if (r.noMatch) {
    if (ctx.out.json) ctx.out.ndjson({ type: 'summary', exit: Exit.NO_MATCH, total: 0, noMatch: true, states: {} });
    else ctx.out.stderr.write(ctx.out.style.red('target matched no known host; nothing was sent (conplyent hosts lists them)') + '\n');
    return Exit.NO_MATCH;
  }
  if (r.aborted) {
    const failed = r.results.filter((x) => x.state !== 'ok').length;
    if (ctx.out.json) ctx.out.ndjson({ type: 'rollout', aborted: true, failed, maxFailures: b.maxFailures, skipped: r.skipped, ts: Date.now() });
    else ctx.out.stderr.write(ctx.out.style.red(`rollout stopped: ${failed} host(s) failed (more than --max-failures ${b.maxFailures}); not run on ${r.skipped.length}: ${r.skipped.join(', ')}`) + '\n');
    exit = worse(exit, Exit.FAILED);
  }
  return exit;
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
  const run = defineVerb(program, 'run <target> <command> [args...]', 'run a command on every host the target selects, streaming output per host', [
    'conplyent run web-1 ls /var/log',
    "conplyent run 'web-*' cwd",
    'conplyent run role=web,env=prod os_info --json | jq .',
    'conplyent run all exec -- uname -a              # args that start with - go after --',
    'conplyent run db-1 wrfile /tmp/motd "hello" -o append=true',
  ])
    .option('-o, --opt <key=value>', 'command option, repeatable (numbers, true/false as in text commands)', collect)
    .option('--cwd <dir>', 'working directory for this command only');
  addBatchOptions(run).action(async (target: string, command: string, args: string[], _o: unknown, cmd: Command) => {
    await withFleet(cmd, (ctx) => runAndRender(ctx, { target, command, args, opts: parsePairs(cmd.opts().opt, 'option'), cwd: cmd.opts().cwd, batches: batchOptions(cmd) }));
  });
}

function whole(name: string, min: number) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} takes a whole number ≥ ${min}`);
    return n;
  };
}

/** Rolling execution flags shared by run and exec. */
export function addBatchOptions(cmd: Command): Command {
  return cmd
    .option('--batch <n>', 'roll out in batches of n hosts, one batch after the other', whole('--batch', 1))
    .option('--max-failures <n>', 'with --batch: start no further batch once more than n hosts failed', whole('--max-failures', 0));
}

export function batchOptions(cmd: Command): BatchOptions | undefined {
  const o = cmd.opts();
  if (o.maxFailures !== undefined && o.batch === undefined) throw new UsageError('--max-failures needs --batch');
  return o.batch === undefined ? undefined : { batch: o.batch, maxFailures: o.maxFailures };
}
