// exec: the one background command that runs a program. Argv form without a shell by default
// (no quoting surprises, no injection), shell form on request; output streamed live with backpressure.
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Readable } from 'node:stream';
import type * as Execa from 'execa';
import { z } from 'zod';
import { lazySchema } from '../../protocol/lazy-schema.js';
import { CommandError, Outcome, type CommandContext, type CommandRegistry } from '../registry.js';
import { flag, name, str } from './schemas.js';
import { abortReason } from '../jobs/abort.js';
import { KILL_GRACE_MS, terminateTree } from '../jobs/tree-kill.js';
import { identityFor } from '../jobs/run-as.js';

// execa and its ~140 modules load at the first exec, not at agent start: an idle agent stays lean.
// Synchronously (require of an ES module, Node >= 20.19), so the handler still attaches stdin before
// it first yields (see runExec).
const require = createRequire(import.meta.url);
let execaModule: typeof Execa | undefined;
const loadExeca = (): typeof Execa => (execaModule ??= require('execa') as typeof Execa);

const SPAWN_REASONS: Record<string, string> = {
  ENOENT: 'program not found',
  EACCES: 'permission denied (not executable?)',
  EPERM: 'operation not permitted',
  ENOEXEC: 'not an executable format',
  E2BIG: 'argument list too long',
};

const envValue = lazySchema(() => z.preprocess((v) => (typeof v === 'number' || typeof v === 'boolean' ? String(v) : v), z.string()));

const execOpts = lazySchema(() => z
  .object({
    shell: flag,
    env: z.record(z.string().regex(/^[^=\0]+$/, 'environment names must not contain = or NUL'), envValue).optional(),
  })
  .strict());

type ExecCtx = CommandContext<[string, ...string[]], z.output<typeof execOpts>>;

/** Reads a stream chunk by chunk; the next read waits for the previous write (backpressure, never buffered whole). */
async function pump(ctx: ExecCtx, stream: Readable | null | undefined, name: 'stdout' | 'stderr'): Promise<void> {
  if (!stream) return;
  for await (const chunk of stream) await ctx.write(name, chunk as Buffer);
}

async function runExec(ctx: ExecCtx): Promise<Outcome> {
  const [program, ...args] = ctx.args;
  // A missing cwd makes spawn report ENOENT as if the program were missing: say what is really wrong.
  // Synchronous on purpose: stdin is attached before the handler first yields, so a send_input
  // dispatched right after this exec always finds it.
  const st = statSync(ctx.cwd, { throwIfNoEntry: false });
  if (!st?.isDirectory()) throw new CommandError('PATH', `${ctx.cwd}: working directory does not exist or is not a directory`);

  if (ctx.signal.aborted) throw new CommandError('CANCELLED', 'cancelled before the program started');
  const who = ctx.grant?.runAs ? identityFor(ctx.grant.runAs) : undefined;

  const child = loadExeca().execa(program, args, {
    cwd: ctx.cwd,
    env: who ? { ...ctx.opts.env, ...who.env } : ctx.opts.env,
    ...(who ? { uid: who.uid, gid: who.gid } : {}),
    extendEnv: true,
    shell: ctx.opts.shell ?? false,
    detached: true, // own process group: kill reaches the whole tree
    stdin: 'pipe',
    buffer: false,
    reject: false,
    stripFinalNewline: false,
    encoding: 'buffer',
    windowsHide: true,
  });
  let spawned = false;
  child.once('spawn', () => (spawned = true));
  if (child.stdin) {
    // A program that exits without reading its stdin must not turn a later send_input into a crash.
    child.stdin.on('error', (err) => ctx.log.debug({ err }, 'stdin closed'));
    ctx.attachStdin(child.stdin, child.pid);
  }

  let cutOff = false;
  let cutTimer: NodeJS.Timeout | undefined;
  const onAbort = () => {
    const reason = abortReason(ctx.signal);
    if (child.pid !== undefined) terminateTree(child.pid, reason?.signal ?? 'SIGTERM');
    // A process that left our group (setsid, a daemon) can hold the pipes open after the tree died:
    // stop reading once the SIGKILL grace is over, so a killed job always ends.
    cutTimer = setTimeout(() => {
      cutOff = true;
      child.stdout?.destroy();
      child.stderr?.destroy();
    }, KILL_GRACE_MS + 1_000);
    cutTimer.unref();
  };
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  if (ctx.signal.aborted) onAbort();

  let streamError: unknown;
  const pumps = Promise.all([pump(ctx, child.stdout, 'stdout'), pump(ctx, child.stderr, 'stderr')]).catch((err) => {
    if (cutOff) return;
    // Output can no longer be delivered: stop the program instead of letting it block on a full pipe.
    streamError = err;
    if (child.pid !== undefined) terminateTree(child.pid, 'SIGTERM');
  });
  const result = await child;
  await pumps;
  ctx.signal.removeEventListener('abort', onAbort);
  clearTimeout(cutTimer);

  if (!spawned && result.exitCode === undefined) {
    const code = String(result.code ?? '');
    throw new CommandError('SPAWN', `cannot start ${program}: ${SPAWN_REASONS[code] ?? result.originalMessage ?? 'spawn failed'}${code ? ` (${code})` : ''}`);
  }
  if (streamError) throw new CommandError('FAILED', `output stream failed: ${(streamError as Error)?.message ?? streamError}`);
  const reason = abortReason(ctx.signal);
  return new Outcome(result.exitCode ?? null, {
    signal: result.signal ?? null,
    timedOut: reason?.kind === 'timeout',
    killed: reason !== undefined && reason.kind !== 'timeout',
  });
}

export function registerProcessCommands(registry: CommandRegistry): void {
  registry.register('background', 'exec', runExec, {
    args: lazySchema(() => z.tuple([name('program')], str('argument'))),
    opts: execOpts,
    usage: '<program> [args...] [shell=true] [env={...}]',
    summary:
      'Runs a program as a background job, streaming stdout/stderr live; stdin stays open for send_input; shell=true runs the joined line through the system shell',
  });
}
