// One running command: its context, its abort controller, its event log and its single terminal event.
import type { Logger } from 'pino';
import { CommandData, MAX_CHUNK_BYTES, ErrorCodes, type ErrorCode, type FrameStream } from '../../protocol/index.js';
import type { JobLog } from '../outbound/job-log.js';
import { CommandError, Outcome, type AgentServices, type CommandContext, type Grant, type CommandDef, type JobInfo } from '../registry.js';
import { ABORT_GRACE_MS, abortReason, type AbortReason } from './abort.js';
import { JobInput } from './job-input.js';
import { OutputBatch } from './output-batch.js';
import { checkedTerminal, type TerminalBody } from './terminal.js';
import { longTimer } from '../../timers/long-timer.js';

export interface JobListeners {
  /** The job's handler started a process: a restarted agent must be able to end its group. */
  onProcess?(pid: number): void;
}

/** What the agent gives a job to run in: where, for how long, and the agent-wide services. */
export interface RunContext {
  host: string;
  opts: unknown;
  cwd: string;
  session?: string;
  timeoutMs?: number;
  agent: AgentServices;
  grant?: Grant;
}

export class Job {
  readonly controller = new AbortController();
  readonly startedAt = Date.now();
  /** Resolves at the job's terminal event, even when its handler never returns (a write into a FIFO). */
  readonly ended: Promise<void>;
  private endedAt: number | undefined;
  private code: number | null | undefined;
  private terminal: string | undefined;
  private pid: number | undefined;
  private started = false;
  private outputEvents = 0;
  private readonly input: JobInput;
  /** Frames only: output gathered while the window is full [cp-frame-3]. */
  private readonly batch?: OutputBatch;
  private markEnded!: () => void;

  constructor(
    readonly id: string,
    readonly def: CommandDef,
    readonly args: unknown[],
    private readonly log: JobLog,
    private readonly logger: Logger,
    private readonly listeners: JobListeners = {},
  ) {
    this.ended = new Promise<void>((resolve) => (this.markEnded = resolve));
    this.input = new JobInput(id);
    if (log.out === 'raw') {
      // Straight out while the pipeline is nearly empty (an eighth of the window awaits acks); gathered
      // beyond that until the acks catch up or the frame is full. A higher mark flushes on every ack
      // that crosses it: a stream the broker cannot keep up with then goes out in pipe-read-sized frames.
      const low = Math.max(1, Math.floor(log.windowSize / 8));
      this.batch = new OutputBatch({
        max: log.chunkBytes,
        open: () => log.hasRoom(low),
        opened: () => log.room(low),
        room: () => log.room(),
        emit: (s, c) => this.output(s, c),
        emitGathered: (s, f) => {
          if (log.appendGathered(s, f)) this.outputEvents++;
        },
      });
    }
  }

  get running(): boolean {
    return this.endedAt === undefined;
  }

  /** Exit code of the ended job (undefined while it runs). */
  get exitCode(): number | null | undefined {
    return this.code;
  }

  /** How the job ended, for the audit log: OK, EXIT_<code> or its error code; undefined while it runs. */
  get outcome(): string | undefined {
    return this.terminal;
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

  /** Writes to the job's stdin (send_input); throws CommandError when it takes no input. */
  sendInput(data: Buffer, end: boolean): Promise<void> {
    return this.input.send(data, end);
  }

  /** Output in wire-sized chunks, each a frame or a JSON event as the command asked [cp-evt-3] [cp-frame-2]. */
  async write(stream: 'stdout' | 'stderr', chunk: Buffer | string): Promise<void> {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (this.batch) return this.batch.add(stream, buf, () => this.running);
    const max = this.log.chunkBytes;
    for (let off = 0; off < buf.length; off += max) {
      if (!this.running) return;
      this.output(stream, buf.subarray(off, off + max));
      await this.log.room();
    }
  }

  async update(data: unknown): Promise<void> {
    const text = typeof data === 'string' ? data : JSON.stringify(data ?? null);
    this.batch?.flush(); // output written before the update goes before it
    let off = 0;
    do {
      if (!this.running) return;
      // Sliced by characters, so each piece is whole text (at most 3 bytes of UTF-8 per character: a frame's too).
      // A slice never ends on a high surrogate: half a pair would become U+FFFD in UTF-8 (Unicode §3.9).
      let end = Math.min(off + MAX_CHUNK_BYTES, text.length);
      if (end < text.length && isHighSurrogate(text.charCodeAt(end - 1))) end--;
      this.output('update', text.slice(off, end));
      await this.log.room();
      off = end;
    } while (off < text.length);
  }

  private output(stream: FrameStream, chunk: Buffer | string): void {
    if (this.log.appendOutput(stream, chunk)) this.outputEvents++;
  }

  /** Ends the job with its one terminal event; later calls are ignored [cp-evt-5]. */
  finish(body: TerminalBody): void {
    if (!this.running) return;
    this.batch?.flush(); // everything the job wrote goes before its terminal event
    body = checkedTerminal(this.id, body);
    this.endedAt = Date.now();
    this.code = body.code;
    this.terminal = body.type === 'result' ? (body.code === 0 ? 'OK' : `EXIT_${body.code}`) : body.error;
    this.log.append({ ...body, durationMs: this.endedAt - this.startedAt, events: this.outputEvents });
    // A finished job stays in the table for replay and `jobs` (up to replayJobs): keep what its
    // frame's bytes were, {bytes, sha256} as everywhere else, not up to 448 KiB of them [cp-cmdframe-3].
    for (let i = 0; i < this.args.length; i++) {
      const a = this.args[i];
      if (a instanceof CommandData) this.args[i] = a.toJSON();
    }
    this.markEnded();
  }

  fail(error: ErrorCode, message: string): void {
    this.finish({ type: 'error', code: ErrorCodes[error], error, message });
  }

  /** Runs the handler and turns whatever it does into exactly one terminal event. */
  async run(rc: RunContext): Promise<void> {
    // A queued foreground job can be killed (or its agent stopped) before its turn: it must never
    // start after that. No abort listener existed yet, so nothing else ends it.
    if (!this.running) return;
    this.started = true;
    const signal = this.controller.signal;
    const timer = rc.timeoutMs ? longTimer(() => this.abort({ kind: 'timeout', signal: 'SIGTERM' }), rc.timeoutMs) : undefined;
    // A handler that ignores its signal must not keep the job "running" forever.
    const onAbort = () => {
      const grace = setTimeout(() => {
        const reason = abortReason(signal)!;
        if (reason.kind === 'timeout') this.fail('TIMEOUT', `timed out after ${rc.timeoutMs} ms; the handler did not stop`);
        else this.fail('CANCELLED', `cancelled (${reason.kind}); the handler did not stop`);
      }, ABORT_GRACE_MS);
      grace.unref();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const value = await this.def.handler(this.context(rc));
      if (value instanceof Outcome) {
        this.finish({ type: 'result', code: value.code, durationMs: 0, events: 0, ...value.fields });
      } else if (abortReason(signal)?.kind === 'timeout') {
        this.fail('TIMEOUT', `timed out after ${rc.timeoutMs} ms`);
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

  private context(rc: RunContext): CommandContext<unknown, unknown> {
    return {
      job: this.id,
      host: rc.host,
      args: this.args,
      opts: rc.opts,
      cwd: rc.cwd,
      ...(rc.session !== undefined ? { session: rc.session } : {}),
      signal: this.controller.signal,
      timeoutMs: rc.timeoutMs,
      log: this.logger,
      update: (d) => this.update(d),
      write: (s, c) => this.write(s, c),
      attachStdin: (stdin, pid) => {
        this.input.attach(stdin);
        this.pid = pid;
        if (pid !== undefined) this.listeners.onProcess?.(pid);
      },
      agent: rc.agent,
      grant: rc.grant,
    };
  }
}

function isHighSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}
