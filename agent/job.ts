// One running command: its context, its abort controller, and its single terminal event.
import { isUtf8 } from 'node:buffer';
import type { Logger } from 'pino';
import { MAX_CHUNK_BYTES, PROTOCOL_VERSION, ErrorCodes, ResultEvent, formatIssues, type ErrorCode, type JobEventBody } from '../protocol/index.js';
import { CommandError, Outcome, type AgentServices, type CommandContext, type CommandDef, type JobInfo } from './registry.js';
import type { JobLog, Outbox } from './outbox.js';

/** Why a job's signal was aborted. */
export interface AbortReason {
  kind: 'kill' | 'timeout' | 'close';
  signal?: NodeJS.Signals;
}

/** Characters JSON must escape as \u00XX (tab, newline and carriage return stay short). */
// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\x00-\x08\x0b\x0c\x0e-\x1f]/;

/** How long a handler may ignore its abort signal before the job is ended without it. */
const ABORT_GRACE_MS = 5_000;

/** Node's timers fire at once past 2^31-1 ms (TimeoutOverflowWarning): longer delays are re-armed in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

function longTimeout(fn: () => void, ms: number): { clear(): void } {
  let t: NodeJS.Timeout;
  const arm = (left: number) => {
    t = setTimeout(() => (left > MAX_TIMER_MS ? arm(left - MAX_TIMER_MS) : fn()), Math.min(left, MAX_TIMER_MS));
  };
  arm(ms);
  return { clear: () => clearTimeout(t) };
}

export class Job {
  readonly controller = new AbortController();
  readonly startedAt = Date.now();
  endedAt: number | undefined;
  code: number | null | undefined;
  stdin: NodeJS.WritableStream | undefined;
  pid: number | undefined;
  private outputEvents = 0;
  private markEnded!: () => void;
  /** Resolves at the job's terminal event, even when its handler never returns (a write into a FIFO). */
  readonly ended = new Promise<void>((resolve) => (this.markEnded = resolve));

  constructor(
    readonly id: string,
    readonly def: CommandDef,
    readonly args: unknown[],
    readonly log: JobLog,
    private readonly outbox: Outbox,
    private readonly logger: Logger,
  ) {}

  get running(): boolean {
    return this.endedAt === undefined;
  }

  info(): JobInfo {
    return {
      id: this.id,
      cmd: this.def.name,
      args: this.args,
      kind: this.def.kind,
      state: this.running ? 'running' : 'done',
      startedAt: this.startedAt,
      ...(this.endedAt !== undefined ? { endedAt: this.endedAt } : {}),
      ...(this.pid !== undefined ? { pid: this.pid } : {}),
      ...(this.code !== undefined ? { code: this.code } : {}),
    };
  }

  abort(reason: AbortReason): void {
    if (!this.controller.signal.aborted) this.controller.abort(reason);
    // Still queued behind other foreground commands: it ends now and will never start (run() checks).
    if (!this.started) this.fail('CANCELLED', `cancelled (${reason.kind}) before it started; not run`);
  }

  private started = false;

  /** Output in wire-sized chunks; UTF-8 text stays text, anything else is base64 [cp-evt-3]. */
  async write(stream: 'stdout' | 'stderr', chunk: Buffer | string): Promise<void> {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    for (let off = 0; off < buf.length; off += MAX_CHUNK_BYTES) {
      if (!this.running) return;
      const piece = buf.subarray(off, off + MAX_CHUNK_BYTES);
      // Control characters grow sixfold as JSON escapes; such a chunk is smaller as base64 [cp-limit-3].
      const text = isUtf8(piece) && !CONTROL_RE.test(piece.toString('latin1'));
      this.emit({ type: 'output', stream, data: piece.toString(text ? 'utf8' : 'base64'), ...(text ? {} : { enc: 'base64' as const }) });
      await this.outbox.room(this.log);
    }
  }

  async update(data: unknown): Promise<void> {
    const text = typeof data === 'string' ? data : JSON.stringify(data ?? null);
    let off = 0;
    do {
      if (!this.running) return;
      this.emit({ type: 'output', stream: 'update', data: text.slice(off, off + MAX_CHUNK_BYTES) });
      await this.outbox.room(this.log);
      off += MAX_CHUNK_BYTES;
    } while (off < text.length);
  }

  private emit(body: JobEventBody): void {
    if (body.type === 'output' && this.outbox.append(this.log, body)) this.outputEvents++;
    else if (body.type !== 'output') this.outbox.append(this.log, body);
  }

  /** Ends the job with its one terminal event; later calls are ignored [cp-evt-5]. */
  finish(body: Extract<JobEventBody, { type: 'result' | 'error' }>): void {
    if (!this.running) return;
    if (body.type === 'result') {
      // An Outcome from a JavaScript plugin is not held to its types (a fractional code, a numeric
      // signal): a result no receiver could decode would leave the job unended for all of them.
      const checked = ResultEvent.safeParse({ v: PROTOCOL_VERSION, host: '', job: this.id, seq: 0, ts: 0, ...body });
      if (!checked.success) body = { type: 'error', code: ErrorCodes.FAILED, error: 'FAILED', message: `the command returned an invalid outcome: ${formatIssues(checked.error)}` };
    }
    if (body.type === 'result' && body.value !== undefined) {
      // A value JSON cannot encode (a BigInt, a cycle) would throw in the outbox after the job was
      // marked ended: no terminal event at all, a job that never ends for every receiver [cp-evt-5].
      try {
        JSON.stringify(body.value);
      } catch (err) {
        body = { type: 'error', code: ErrorCodes.FAILED, error: 'FAILED', message: `the command's result value cannot be sent as JSON: ${(err as Error).message}` };
      }
    }
    this.endedAt = Date.now();
    this.code = body.code;
    const durationMs = this.endedAt - this.startedAt;
    if (body.type === 'result') this.outbox.append(this.log, { ...body, durationMs, events: this.outputEvents });
    else this.outbox.append(this.log, { ...body, durationMs, events: this.outputEvents });
    this.markEnded();
  }

  fail(error: ErrorCode, message: string): void {
    this.finish({ type: 'error', code: ErrorCodes[error], error, message });
  }

  /** Runs the handler and turns whatever it does into exactly one terminal event. */
  async run(ctxBase: { host: string; opts: unknown; cwd: string; timeoutMs?: number; agent: AgentServices }): Promise<void> {
    // A queued foreground job can be killed (or its agent stopped) before its turn: it must never
    // start after that. No abort listener existed yet, so nothing else ends it.
    if (!this.running) return;
    this.started = true;
    const ctx: CommandContext<unknown, unknown> = {
      job: this.id,
      host: ctxBase.host,
      args: this.args,
      opts: ctxBase.opts,
      cwd: ctxBase.cwd,
      signal: this.controller.signal,
      timeoutMs: ctxBase.timeoutMs,
      log: this.logger,
      update: (d) => this.update(d),
      write: (s, c) => this.write(s, c),
      agent: ctxBase.agent,
    };
    const timer = ctxBase.timeoutMs ? longTimeout(() => this.abort({ kind: 'timeout', signal: 'SIGTERM' }), ctxBase.timeoutMs) : undefined;
    // A handler that ignores its signal must not keep the job "running" forever.
    const onAbort = () => {
      const grace = setTimeout(() => {
        const reason = this.controller.signal.reason as AbortReason;
        if (reason.kind === 'timeout') this.fail('TIMEOUT', `timed out after ${ctxBase.timeoutMs} ms; the handler did not stop`);
        else this.fail('CANCELLED', `cancelled (${reason.kind}); the handler did not stop`);
      }, ABORT_GRACE_MS);
      grace.unref();
    };
    this.controller.signal.addEventListener('abort', onAbort, { once: true });
    try {
      const value = await this.def.handler(ctx);
      if (value instanceof Outcome) {
        this.finish({ type: 'result', code: value.code, durationMs: 0, events: 0, ...value.fields });
      } else if (this.controller.signal.aborted && (this.controller.signal.reason as AbortReason).kind === 'timeout') {
        this.fail('TIMEOUT', `timed out after ${ctxBase.timeoutMs} ms`);
      } else {
        this.finish({ type: 'result', code: 0, durationMs: 0, events: 0, ...(value === undefined ? {} : { value }) });
      }
    } catch (err) {
      // A JavaScript plugin is not held to the ErrorCode type: a code the contract does not know (or a
      // prototype name such as 'constructor') would make an event no receiver can decode.
      if (err instanceof CommandError && Object.hasOwn(ErrorCodes, err.error)) this.fail(err.error, err.message);
      else if (err instanceof CommandError) this.fail('FAILED', `${err.message} (the command threw an unknown error code ${JSON.stringify(err.error)})`);
      else {
        this.logger.warn({ err }, 'command handler failed');
        this.fail('FAILED', (err as Error)?.message ?? String(err));
      }
    } finally {
      timer?.clear();
    }
  }
}
