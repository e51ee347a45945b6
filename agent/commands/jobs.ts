// Job commands: talk to other jobs of this agent through the core's job table (jobs, kill,
// is_alive, send_input, replay). Unknown ids are UNKNOWN_JOB errors, ended jobs NOT_RUNNING.
import * as os from 'node:os';
import { z } from 'zod';
import { lazySchema } from '../../protocol/lazy-schema.js';
import { CommandError, type CommandRegistry } from '../registry.js';
import { count, decodeData, encoding, flag, name, str } from './schemas.js';
import { previewArgs } from '../preview.js';

const jobArg = lazySchema(() => name('job'));
const noOpts = lazySchema(() => z.object({}).strict());

/** Accepts `SIGTERM`, `TERM` or `term`; anything that is not a signal of this OS is a clear error. */
const signalOpt = lazySchema(() => z
  .string({ error: 'signal must be a signal name such as SIGTERM' })
  .transform((s) => (s.toUpperCase().startsWith('SIG') ? s.toUpperCase() : `SIG${s.toUpperCase()}`))
  .refine((s) => Object.hasOwn(os.constants.signals, s), { message: 'signal is not a signal name of this OS (e.g. SIGTERM, SIGKILL, SIGINT)' })
  .transform((s) => s as NodeJS.Signals)
  .optional());

/** How long send_input waits for the program to take its data before answering flushed=false. */
export const SEND_FLUSH_WAIT_MS = 1_000;

export function registerJobCommands(registry: CommandRegistry): void {
  registry.register('foreground', 'jobs', (ctx) => ctx.agent.jobs().map((j) => ({ ...j, args: previewArgs(j.args) })), {
    args: lazySchema(() => z.tuple([])),
    opts: noOpts,
    usage: '',
    summary: 'Lists running and recent jobs of this agent (long arguments shortened, marked with their length)',
  });

  registry.register(
    'foreground',
    'kill',
    async (ctx) => {
      const signal = ctx.opts.signal ?? 'SIGTERM';
      await ctx.agent.kill(ctx.args[0], signal);
      return { job: ctx.args[0], signal };
    },
    {
      args: lazySchema(() => z.tuple([jobArg])),
      opts: lazySchema(() => z.object({ signal: signalOpt }).strict()),
      usage: '<job> [signal=SIGTERM]',
      summary: "Ends a running job's whole process tree (SIGKILL follows after 3 s if it is still alive)",
    },
  );

  registry.register(
    'foreground',
    'is_alive',
    (ctx) => {
      const job = ctx.agent.jobs().find((j) => j.id === ctx.args[0]);
      if (!job) throw new CommandError('UNKNOWN_JOB', `no job ${ctx.args[0]} on this agent`);
      return { job: job.id, alive: job.state === 'running' };
    },
    {
      args: lazySchema(() => z.tuple([jobArg])),
      opts: noOpts,
      usage: '<job>',
      summary: 'Tells whether a job is still running',
    },
  );

  registry.register(
    'foreground',
    'send_input',
    async (ctx) => {
      const [job, data] = ctx.args;
      const bytes = decodeData(data, ctx.opts.encoding);
      if (!bytes) throw new CommandError('BAD_ARGS', 'data is not valid base64');
      const payload = ctx.opts.newline ? Buffer.concat([bytes, Buffer.from('\n')]) : bytes;
      const end = ctx.opts.end ?? false;
      // A program that does not read its stdin never lets a write flush; waiting for it would hold up
      // every foreground command after this one (kill included). Wait a bounded time, then say so.
      const writing = ctx.agent.sendInput(job, payload, end);
      let timer: NodeJS.Timeout | undefined;
      const flushed = await Promise.race([
        writing.then(() => true),
        new Promise<boolean>((r) => (timer = setTimeout(() => r(false), SEND_FLUSH_WAIT_MS))),
      ]).finally(() => clearTimeout(timer));
      if (!flushed) writing.catch((err: unknown) => ctx.log.warn({ err, job }, 'send_input data was never delivered'));
      return { job, bytes: payload.length, ended: end, flushed };
    },
    {
      args: lazySchema(() => z.tuple([jobArg, str('data').optional()]).transform(([job, data]) => [job, data ?? ''] as [string, string])),
      opts: lazySchema(() => z.object({ end: flag, encoding, newline: flag }).strict()),
      usage: '<job> [data] [newline=true] [end=true] [encoding=base64]',
      summary:
        "Writes data to a running job's stdin; newline=true appends \\n, end=true closes stdin afterwards; flushed=false: the program has not read it yet",
    },
  );

  registry.register(
    'foreground',
    'replay',
    async (ctx) => {
      const [job, from] = ctx.args;
      return { job, from, ...(await ctx.agent.replay(job, from)) };
    },
    {
      args: lazySchema(() => z.tuple([jobArg, count('fromSeq').optional()]).transform(([job, from]) => [job, from ?? 0] as [string, number])),
      opts: noOpts,
      usage: '<job> [fromSeq=0]',
      summary: "Publishes a job's stored events again from a sequence number",
    },
  );
}
