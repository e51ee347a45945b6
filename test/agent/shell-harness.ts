// Drives built-in command handlers directly: a real CommandRegistry, the real handlers, and a small
// in-memory AgentServices (cwd, job table, stdin map) standing in for the agent core. No broker here;
// the wire is covered by shell-e2e.test.ts.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach } from 'vitest';
import { pino } from 'pino';
import { CommandError, CommandRegistry, Outcome, type AgentServices, type CommandContext, type JobInfo } from '../../agent/registry.js';
import { registerBuiltins } from '../../agent/commands/index.js';
import { formatIssues, parseTextCommand } from '../../protocol/index.js';

export type RunResult =
  | { ok: true; code: number | null; value?: unknown; signal?: string | null; timedOut?: boolean; killed?: boolean }
  | { ok: false; error: string; code: number; message: string };

export interface Chunk {
  stream: 'stdout' | 'stderr';
  data: Buffer;
}

export interface RunOptions {
  cwd?: string;
  timeoutMs?: number;
  /** Replaces the default write, e.g. to hold chunks back (backpressure tests). */
  write?: (stream: 'stdout' | 'stderr', chunk: Buffer) => Promise<void>;
}

export interface Started {
  id: string;
  out: Chunk[];
  done: Promise<RunResult>;
  abort(reason: { kind: 'kill' | 'timeout' | 'close'; signal?: NodeJS.Signals }): void;
  stdout(): string;
  stderr(): string;
}

export function makeShell(cwd: string) {
  const registry = new CommandRegistry();
  registerBuiltins(registry);
  const state = {
    cwd,
    jobs: new Map<string, JobInfo & { ctrl: AbortController }>(),
    stdins: new Map<string, NodeJS.WritableStream>(),
    power: [] as Array<[string, number | undefined]>,
    closed: 0,
    replays: [] as Array<[string, number]>,
  };
  let nextId = 0;

  const running = (job: string) => {
    const j = state.jobs.get(job);
    if (!j) throw new CommandError('UNKNOWN_JOB', `no job ${job}`);
    if (j.state !== 'running') throw new CommandError('NOT_RUNNING', `job ${job} has ended`);
    return j;
  };

  const agent: AgentServices = {
    getCwd: () => state.cwd,
    setCwd: (dir) => void (state.cwd = dir),
    jobs: () => [...state.jobs.values()].map(({ ctrl: _c, ...info }) => info),
    async sendInput(job, data, end) {
      running(job);
      const stdin = state.stdins.get(job);
      if (!stdin) throw new CommandError('NOT_RUNNING', `job ${job} has no stdin`);
      // The write callback, not 'drain': drain never comes once the program has exited.
      await new Promise<void>((resolve, reject) =>
        stdin.write(data, (err) => (err ? reject(new CommandError('NOT_RUNNING', `stdin of ${job} is closed: ${err.message}`)) : resolve())),
      );
      if (end) stdin.end();
    },
    async kill(job, signal) {
      running(job).ctrl.abort({ kind: 'kill', signal });
    },
    async replay(job, fromSeq) {
      if (!state.jobs.has(job)) throw new CommandError('UNKNOWN_JOB', `no job ${job}`);
      state.replays.push([job, fromSeq]);
      return { replayed: 7, firstAvailable: 0 };
    },
    closeServer: () => void state.closed++,
    async power(action, delaySec) {
      state.power.push([action, delaySec]);
    },
    commands: () => registry.list(),
    audit: () => [],
  };

  /** Starts a command the way the core would: validate, add to the job table, run the handler. */
  function start(cmd: string, args: unknown[] = [], opts: Record<string, unknown> = {}, o: RunOptions = {}): Started {
    const id = `j${nextId++}`;
    const out: Chunk[] = [];
    const ctrl = new AbortController();
    const def = registry.get(cmd);
    const text = (s: 'stdout' | 'stderr') => Buffer.concat(out.filter((c) => c.stream === s).map((c) => c.data)).toString();
    const started: Started = { id, out, abort: (r) => ctrl.abort(r), stdout: () => text('stdout'), stderr: () => text('stderr'), done: undefined as never };
    if (!def) {
      started.done = Promise.resolve({ ok: false, error: 'UNKNOWN_COMMAND', code: -1, message: cmd });
      return started;
    }
    const a = def.args.safeParse(args);
    const p = def.opts.safeParse(opts);
    if (!a.success || !p.success) {
      const message = [a, p].flatMap((r) => (r.success ? [] : [formatIssues(r.error)])).join('; ');
      started.done = Promise.resolve({ ok: false, error: 'BAD_ARGS', code: -1, message });
      return started;
    }
    const info = { id, cmd, args, kind: def.kind, state: 'running' as const, startedAt: Date.now(), ctrl };
    state.jobs.set(id, info);
    const ctx: CommandContext = {
      job: id,
      host: 'test-host',
      args: a.data as unknown[],
      opts: p.data as Record<string, unknown>,
      cwd: o.cwd ?? state.cwd,
      signal: ctrl.signal,
      timeoutMs: o.timeoutMs,
      log: pino({ level: 'silent' }),
      update: async () => {},
      write: async (stream, chunk) => {
        const data = Buffer.isBuffer(chunk) ? Buffer.from(chunk) : Buffer.from(chunk);
        out.push({ stream, data });
        if (o.write) await o.write(stream, data);
      },
      attachStdin: (stdin) => void state.stdins.set(id, stdin),
      agent,
    };
    started.done = (async (): Promise<RunResult> => {
      try {
        const v = await def.handler(ctx);
        if (v instanceof Outcome) return { ok: true, code: v.code, ...v.fields };
        return { ok: true, code: 0, value: v };
      } catch (err) {
        if (err instanceof CommandError) return { ok: false, error: err.error, code: err.code, message: err.message };
        throw err;
      } finally {
        Object.assign(info, { state: 'done', endedAt: Date.now() });
        state.stdins.delete(id);
      }
    })();
    return started;
  }

  const run = (cmd: string, args: unknown[] = [], opts: Record<string, unknown> = {}, o: RunOptions = {}) => start(cmd, args, opts, o).done;

  /** Runs a plain-text command line, as a person would type it into mosquitto_pub. */
  const runText = (line: string, o: RunOptions = {}) => {
    const c = parseTextCommand(line);
    return run(c.cmd, c.args ?? [], (c.opts ?? {}) as Record<string, unknown>, o);
  };

  return { registry, agent, state, start, run, runText };
}

/** Polls `check` every 20 ms until it is true or `ms` pass; returns the last answer. */
export async function waitFor(check: () => boolean | Promise<boolean>, ms = 5_000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return check();
}

/** Whether a pid is a live process (a zombie left for an absent reaper counts as dead). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  if (process.platform !== 'linux') return true;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/**
 * A fresh directory and shell for every test of a suite (registers beforeEach/afterAll); read
 * `t.dir` and `t.sh` inside tests.
 */
export function freshShellPerTest(prefix: string): { dir: string; sh: ReturnType<typeof makeShell> } {
  const root = mkdtempSync(join(tmpdir(), prefix));
  const t = {} as { dir: string; sh: ReturnType<typeof makeShell> };
  let n = 0;
  beforeEach(() => {
    t.dir = join(root, `t${n++}`);
    mkdirSync(t.dir);
    t.sh = makeShell(t.dir);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  return t;
}
