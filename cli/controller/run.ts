// `conplyent run <target> <command> [args…]`: any registered command on every selected host.
import { InvalidArgumentError, type Command } from 'commander';
import type { VerbContext } from './common.js';
import { collect, defineVerb, parsePairs, targetOf, UsageError, withFleet } from './common.js';
import { Exit, worse, type ExitStatus } from './exit-codes.js';
import type { RunOptions } from '../../controller/fleet.js';
import type { JobHandle } from '../../controller/job.js';
import { rollout } from '../../controller/rollout.js';
import type { Target } from '../../controller/targets.js';
import { confirmDanger } from './confirm.js';
import { addJobOptions, jobFlags, ttlFor, type JobFlags } from './job-flags.js';
import { followOrStop, shellWord, type Limits } from './outcome.js';
import { JobRenderer, type RenderOptions } from './render-job.js';
import { compressHosts } from '../../controller/host-ranges.js';

/** One command to run and render: what run, exec, kill, input, jobs and ping each fill in. */
export interface RunRequest {
  target: Target;
  command: string;
  args?: unknown[];
  /** Named options of the command (the envelope's `opts`). */
  opts?: Record<string, unknown>;
  render?: RenderOptions;
  cwd?: string;
  /** --batch / --max-failures; absent: one job to every selected host at once. */
  batches?: BatchOptions;
  /** --session: whose current directory on the hosts the command uses and `cd` moves [cp-env-12]. */
  session?: string;
  /** Flags of verbs that start jobs (job-flags.ts); control verbs (kill, jobs, ping) leave it out. */
  flags?: JobFlags;
}

const CONTROL_FLAGS: JobFlags = { queue: false, async: false, yes: false, fold: false, sort: false };

export interface BatchOptions {
  batch?: number;
  maxFailures?: number;
}

/**
 * The library's run options for a verb. --timeout is how long we wait (Salt's -t) and never kills;
 * only --kill-after becomes the job's timeoutMs. Output is printed as it streams; keeping it for the
 * results too would grow without bound (salt #27323).
 */
function runOptions(ctx: VerbContext, req: RunRequest): RunOptions {
  const f = req.flags ?? CONTROL_FLAGS;
  return {
    opts: req.opts ?? {},
    waitMs: ctx.cfg.timeoutMs,
    ttlMs: ttlFor(ctx.cfg, f),
    keepOutput: false,
    ...(f.killAfterMs !== undefined ? { timeoutMs: f.killAfterMs } : {}),
    ...(req.cwd ? { cwd: req.cwd } : {}),
    ...(req.session ? { session: req.session } : {}),
  };
}

function renderOptions(ctx: VerbContext, req: RunRequest, o: RunOptions): RenderOptions {
  const f = req.flags;
  const limits: Limits = { waitMs: o.waitMs, killAfterMs: o.timeoutMs, ttlMs: o.ttlMs, queued: f?.queue === true };
  return { ...(f ? { announce: true, fold: f.fold, sort: f.sort } : {}), limits, ...req.render };
}

/** Runs one command and renders it: the path shared by run, exec, kill, input, jobs and ping. */
export async function runAndRender(ctx: VerbContext, req: RunRequest): Promise<ExitStatus> {
  if (req.flags && !(await confirmDanger(ctx, req, req.flags.yes))) return Exit.FAILED;
  if (req.batches?.batch !== undefined) return runInBatches(ctx, req, req.batches);
  const { target, command, args = [] } = req;
  const o = runOptions(ctx, req);
  // Resolved in the same tick as run() did: the same view of presence.
  const { stale } = ctx.fleet.resolve(target);
  const job = ctx.fleet.run(target, command, args, o);
  if (req.flags?.async) return sendOnly(ctx, job);
  const ro = { ...renderOptions(ctx, req, o), stale };
  const renderer = new JobRenderer(ctx.out, job, ro.raw && job.expected.length !== 1 ? { ...ro, raw: false } : ro);
  const stop = interruptNotice(ctx, job, renderer);
  try {
    const { exit } = await renderer.follow({ target, args });
    return exit;
  } finally {
    stop();
  }
}

/** --async: the job id on stdout once the command is published; the results are `attach`'s. */
async function sendOnly(ctx: VerbContext, job: JobHandle): Promise<ExitStatus> {
  if (job.noMatch) {
    ctx.out.stderr.write('target matched no known host; nothing was sent (conplyent hosts lists them)\n');
    return Exit.NO_MATCH;
  }
  await job.started;
  const hosts = compressHosts(job.expected);
  if (ctx.out.json) ctx.out.ndjson({ type: 'start', job: job.id, cmd: job.cmd, expected: job.expected, async: true, ts: Date.now() });
  else {
    ctx.out.stdout.write(`${job.id}\n`);
    ctx.out.stderr.write(`sent job ${job.id} to ${hosts}; results: conplyent attach ${shellWord(hosts)} ${job.id}\n`);
  }
  return Exit.OK;
}

/** --batch / --max-failures: one job per batch, each rendered as it runs; stops past the failure budget. */
async function runInBatches(ctx: VerbContext, req: RunRequest, b: BatchOptions): Promise<ExitStatus> {
  const { target, command, args = [] } = req;
  const o = runOptions(ctx, req);
  const render = renderOptions(ctx, req, o);
  let exit: ExitStatus = Exit.OK;
  const r = await rollout(ctx.fleet, target, command, args, {
    ...o,
    batchSize: b.batch!,
    maxFailures: b.maxFailures,
    onBatch: async (job, n, hosts) => {
      if (!ctx.out.json) ctx.out.stderr.write(ctx.out.style.dim(`batch ${n}: ${hosts.join(', ')}`) + '\n');
      const renderer = new JobRenderer(ctx.out, job, render);
      const stop = interruptNotice(ctx, job, renderer);
      try {
        exit = worse(exit, (await renderer.follow({ target, args, batch: n })).exit);
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

/** Ctrl-C leaves the job running on the hosts; say how to follow or stop it on every one of them. */
function interruptNotice(ctx: VerbContext, job: JobHandle, renderer: JobRenderer): () => void {
  const onInt = () => {
    const pending = renderer.pending();
    const hosts = pending.length ? pending : job.expected;
    ctx.out.stderr.write(['', `interrupted: job ${job.id} keeps running on ${compressHosts(hosts)}.`, ...followOrStop(hosts, job.id), ''].join('\n'));
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
    "conplyent run 'web[1-4]' -x web3 os_info",
    'conplyent run web-1 cd /srv --session deploy && conplyent run web-1 ls --session deploy',
  ])
    .option('-o, --opt <key=value>', 'command option, repeatable (numbers, true/false as in text commands)', collect)
    .option('--cwd <dir>', 'working directory for this command only')
    .option('--session <name>', 'whose current directory on the hosts this command uses and `cd` moves (default: the shared one)');
  addJobOptions(addBatchOptions(run)).action(async (target: string, command: string, args: string[], _o: unknown, cmd: Command) => {
    await withFleet(cmd, target, (ctx) => {
      const flags = jobFlags(cmd);
      // rdfile to one host: stdout is the file's bytes and nothing else, as `cat` would give.
      const render = command === 'rdfile' && !flags.fold && !flags.sort ? { raw: true } : {};
      return runAndRender(ctx, { target: targetOf(cmd, target), command, args, opts: parsePairs(cmd.opts().opt, 'option'), cwd: cmd.opts().cwd, session: cmd.opts().session, batches: batchOptions(cmd), flags, render });
    });
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
