// Commands are data plus a handler. The built-in shell registers through exactly this API, the same
// one users get for custom commands (the original's @register_command / @register_background_command).
import { z } from 'zod';
import type { Logger } from 'pino';
import type { AuditRecord, CommandInfo, ErrorCode } from '../protocol/index.js';
import type { AuditQuery } from './audit/query.js';
import { ErrorCodes } from '../protocol/index.js';

export type CommandKind = 'foreground' | 'background';

/** What a handler gets: its job, its validated arguments, and the means to stream output. */
export interface CommandContext<A = unknown[], O = Record<string, unknown>> {
  readonly job: string;
  readonly host: string;
  readonly args: A;
  readonly opts: O;
  /** Effective working directory: the command's `cwd`, else the current directory of its session. */
  readonly cwd: string;
  /** The envelope's `session` [cp-env-12]: whose current directory `cd` moves. */
  readonly session?: string;
  /** Aborted on kill, timeout or close_server; long handlers must honour it. */
  readonly signal: AbortSignal;
  readonly timeoutMs: number | undefined;
  readonly log: Logger;
  /** Sends an `update` output event (a progress note, a partial value). Resolves when it is queued with room to spare. */
  update(data: unknown): Promise<void>;
  /** Sends raw output in bounded chunks; resolves when the publish window has room (backpressure). */
  write(stream: 'stdout' | 'stderr', chunk: Buffer | string): Promise<void>;
  /**
   * Hands this job's process stdin to the agent so send_input can reach it; the pid is shown by
   * `jobs` and recorded, so an agent restarted after a crash can end the group left behind.
   */
  attachStdin(stdin: NodeJS.WritableStream, pid?: number): void;
  /** Agent-wide services the built-in shell needs; custom commands rarely do. */
  readonly agent: AgentServices;
  /** What the agent's policy admitted this command under; undefined without a policy (unconfined). */
  readonly grant?: Grant;
}

/**
 * The limits a policy rule puts on a command it allows: file handlers confine their paths to
 * `roots` after resolving symlinks, exec runs its program as `runAs`.
 */
export interface Grant {
  rule: string;
  /** realpath'd roots; undefined: the command is not confined (simple mode). */
  roots?: { read: string[]; write: string[] };
  runAs?: { user: string; group?: string };
}

/** What the built-in commands need from the agent around them. */
export interface AgentServices {
  /** A session's current directory; without a session the shared one every sender without a session uses [cp-env-8]. */
  getCwd(session?: string): string;
  setCwd(dir: string, session?: string): void;
  /** Running and recent jobs, for `jobs`, `kill`, `send_input`, `is_alive`. */
  jobs(): JobInfo[];
  /** Writes to a running job's stdin; throws CommandError UNKNOWN_JOB / NOT_RUNNING. */
  sendInput(job: string, data: Buffer, end: boolean): Promise<void>;
  /** Kills a running job's process tree; throws CommandError UNKNOWN_JOB / NOT_RUNNING. */
  kill(job: string, signal?: NodeJS.Signals): Promise<void>;
  /** Replays stored events of a job from a sequence number: how many were sent and the oldest seq still kept. */
  replay(job: string, fromSeq: number): Promise<{ replayed: number; firstAvailable: number }>;
  /** Kills every job, reports offline and stops the agent once this job's result is out. */
  closeServer(): void;
  /** The OS power call (after `delaySec`, default ~1 s); injectable so tests never reboot the machine. */
  power(action: 'reboot' | 'shutdown', delaySec?: number): Promise<void>;
  /** Commands registered on this agent, as announced in presence. */
  commands(): CommandInfo[];
  /**
   * Records of the agent's audit log, oldest first, bounded by the query's limit. Asynchronous (it
   * returned the array directly before): a plugin must await it.
   * @example
   * const records = await ctx.agent.audit({ limit: 10 });
   */
  audit(q: AuditQuery): Promise<AuditRecord[]>;
}

export interface JobInfo {
  id: string;
  cmd: string;
  args: unknown[];
  kind: CommandKind;
  state: 'running' | 'done';
  startedAt: number;
  endedAt?: number;
  pid?: number;
  code?: number | null;
}

/** Thrown by a handler to end its job with an `error` event of this code. */
export class CommandError extends Error {
  readonly code: number;
  constructor(readonly error: ErrorCode, message: string) {
    super(message);
    this.code = ErrorCodes[error];
  }
}

/** Returned by a handler whose exit status is not plain success (exec: the process's own code). */
export class Outcome {
  constructor(
    readonly code: number | null,
    readonly fields: { value?: unknown; signal?: string | null; timedOut?: boolean; killed?: boolean } = {},
  ) {}
}

export type Handler<A, O> = (ctx: CommandContext<A, O>) => unknown | Promise<unknown>;

export interface CommandOptions<A, O> {
  /** Schema of the positional arguments; default: any array. */
  args?: z.ZodType<A, any>;
  /** Schema of the options object; default: any object. */
  opts?: z.ZodType<O, any>;
  /** Argument hint shown in presence and editors, e.g. `<path> [recursive=true]`. */
  usage?: string;
  summary?: string;
}

export interface CommandDef {
  name: string;
  kind: CommandKind;
  args: z.ZodType<unknown, any>;
  opts: z.ZodType<unknown, any>;
  usage?: string;
  summary?: string;
  handler: Handler<any, any>;
}

const NAME_RE = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;

/**
 * An explicit map of commands (never a lookup on an object: `__proto__`, `constructor` and
 * `toString` are unknown commands: Salt's CVE-2020-11651 came from dispatching on what was not hidden).
 */
export class CommandRegistry {
  private readonly defs = new Map<string, CommandDef>();

  register<A = unknown[], O = Record<string, unknown>>(kind: CommandKind, name: string, handler: Handler<A, O>, options: CommandOptions<A, O> = {}): void {
    if (!NAME_RE.test(name)) throw new TypeError(`command name "${name}" must match ${NAME_RE}`);
    if (this.defs.has(name)) throw new TypeError(`command "${name}" is already registered`);
    this.defs.set(name, {
      name,
      kind,
      args: (options.args ?? z.array(z.unknown())) as z.ZodType<unknown, any>,
      opts: (options.opts ?? z.record(z.string(), z.unknown())) as z.ZodType<unknown, any>,
      usage: options.usage,
      summary: options.summary,
      handler: handler as Handler<any, any>,
    });
  }

  get(name: string): CommandDef | undefined {
    return this.defs.get(name);
  }

  list(): CommandInfo[] {
    return [...this.defs.values()].map((d) => ({
      name: d.name,
      kind: d.kind,
      ...(d.usage ? { usage: d.usage } : {}),
      ...(d.summary ? { summary: d.summary } : {}),
    }));
  }
}
