// Per-host collection of one job's events: duplicates dropped by seq [cp-evt-1], gaps found, the
// first terminal event kept [cp-evt-5], and the flat HostResult built at the end. Pure: no I/O,
// so the dedupe and gap rules are unit-tested without a broker.
import { ErrorCodes, outputBytes, unfold, type ErrorCode, type JobEvent, type SignatureErrorCode } from '../protocol/index.js';

/**
 * `running`: the host accepted the job and had not finished when the wait ended; the job goes on
 * there (a controller's wait never kills anything; the job's own timeoutMs does).
 */
export type HostState = 'ok' | 'failed' | 'error' | 'offline' | 'no-answer' | 'running' | 'expired' | 'rejected' | 'lost' | 'forged';

/** What could not be recovered: never hidden, always reported [cp-evt-7]. */
export interface GapInfo {
  /** Output events we know existed and never received (agent-reported drops included). */
  droppedEvents: number;
  /** Bytes the agent reported dropping (0 when only seqs are known to be missing). */
  droppedBytes: number;
  /** Sequence numbers that never arrived, even after a replay (first 100). */
  missingSeqs: number[];
}

export interface HostResult {
  host: string;
  state: HostState;
  /** Exit code (exec: the process's own); null when killed by a signal or when there is none. */
  code: number | null;
  signal: string | null;
  durationMs: number | null;
  stdout: Buffer;
  stderr: Buffer;
  /** The return value of a foreground command. */
  value?: unknown;
  /** Why there is no normal result: an error code name and message, or the controller's reason. */
  error?: { code: ErrorCode | 'OFFLINE' | 'NO_ANSWER' | 'RUNNING' | 'FORGED'; message: string };
  gap?: GapInfo;
  timedOut?: boolean;
  killed?: boolean;
}

/** Error codes meaning the command was refused before it ran. */
const REJECTED: ReadonlySet<string> = new Set(
  (Object.keys(ErrorCodes) as ErrorCode[]).filter((c) => ErrorCodes[c] === ErrorCodes.BAD_ARGS).concat(['CLOCK_SKEW']),
);

function stateOf(ev: JobEvent): HostState {
  if (ev.type === 'lost') return 'lost';
  if (ev.type === 'result') return ev.code === 0 && !ev.timedOut && !ev.killed ? 'ok' : 'failed';
  if (ev.type === 'error') {
    if (ev.error === 'EXPIRED') return 'expired';
    if (ev.error === 'LOST') return 'lost';
    return REJECTED.has(ev.error) ? 'rejected' : 'error';
  }
  return 'error';
}

export class HostStream {
  private readonly seen = new Set<number>();
  /** Output by seq: replayed or redelivered events arrive after later ones, the result is in seq order. */
  private readonly chunks: { stdout: Map<number, Buffer>; stderr: Map<number, Buffer> } = { stdout: new Map(), stderr: new Map() };
  private outputs = 0;
  private reportedDrops = { events: 0, bytes: 0 };
  terminal?: JobEvent;
  /** Accepted event, kept for display (cmd, kind). */
  accepted?: JobEvent;
  lastHeard = 0;
  /** Events received, duplicates included: a backlog still draining is progress (recovery.ts). */
  received = 0;
  private maxSeen = -1;

  constructor(readonly host: string, private readonly keepOutput = true) {}

  /** Takes an event; false for a duplicate (same seq seen) or a second terminal. */
  accept(ev: JobEvent, now = Date.now()): boolean {
    this.received++;
    // Exactly one terminal per job: a later `lost` from a restarted agent, or a replayed terminal
    // under another seq, must not replace the first [cp-evt-5].
    if (this.terminal && (ev.type === 'result' || ev.type === 'error' || ev.type === 'lost')) return false;
    // A `lost` comes from a restarted agent that cannot know the last seq: its seq may repeat one we
    // have, and it is still the job's terminal event [cp-evt-8].
    if (ev.type === 'lost') {
      this.terminal = ev;
      this.lastHeard = now;
      return true;
    }
    if (this.seen.has(ev.seq)) return false;
    this.seen.add(ev.seq);
    if (ev.seq > this.maxSeen) this.maxSeen = ev.seq;
    this.lastHeard = now;
    switch (ev.type) {
      case 'accepted':
        this.accepted = ev;
        break;
      case 'output':
        this.outputs++;
        if (this.keepOutput && ev.stream !== 'update') {
          this.chunks[ev.stream].set(ev.seq, outputBytes(ev));
        }
        break;
      case 'gap':
        this.reportedDrops.events += ev.droppedEvents;
        this.reportedDrops.bytes += ev.droppedBytes;
        break;
      default:
        this.terminal = ev;
        // A folded terminal is the job's `accepted` too [cp-fold-3].
        if (!this.accepted && ev.accepted) this.accepted = unfold(ev)[0];
    }
    return true;
  }

  /** Highest seq such that every seq up to it has arrived; -1 when seq 0 is missing. */
  contiguousUpTo(): number {
    let s = -1;
    while (this.seen.has(s + 1)) s++;
    return s;
  }

  /** After a `lost`, only what arrived before it can be checked. */
  private top(): number {
    return this.terminal && this.terminal.type !== 'lost' ? this.terminal.seq : this.maxSeen;
  }

  /** How many seqs below the terminal (or below the highest seen) never arrived. */
  missingCount(): number {
    const top = this.top();
    let below = 0;
    for (const s of this.seen) if (s < top) below++;
    return Math.max(0, top - below);
  }

  /**
   * The first `limit` seqs below the terminal that never arrived. Bounded by what arrived plus
   * `limit`, never by the seq itself: one event claiming seq 2^53 must not hang the controller.
   */
  missing(limit = 100): number[] {
    const top = this.top();
    const out: number[] = [];
    for (let s = 0; s < top && out.length < limit; s++) if (!this.seen.has(s)) out.push(s);
    return out;
  }

  /** Output events the terminal announced but we neither received nor saw reported as dropped. */
  private unaccountedOutputs(): number {
    const t = this.terminal;
    const announced = t && (t.type === 'result' || t.type === 'error') ? t.events : undefined;
    if (announced === undefined) return 0;
    // `events` counts only output the agent published; what it dropped is reported by gap events,
    // not part of `events`, so it must not be subtracted here.
    return Math.max(0, announced - this.outputs);
  }

  /** Complete: a terminal arrived and nothing before it is missing. */
  complete(): boolean {
    return this.terminal !== undefined && this.missingCount() === 0 && this.unaccountedOutputs() === 0;
  }

  /**
   * The lowest seq from `from` up to the terminal (or the highest seen) that never arrived; undefined
   * when none. From `from`, so a hole the host can no longer replay does not hide a later one.
   */
  firstMissing(from = 0): number | undefined {
    const top = this.top();
    for (let s = Math.max(0, from); s < top; s++) if (!this.seen.has(s)) return s;
    return undefined;
  }

  /** First seq a replay should start from. */
  replayFrom(): number {
    return this.contiguousUpTo() + 1;
  }

  private gap(): GapInfo | undefined {
    const dropped = Math.max(this.missingCount(), this.unaccountedOutputs()) + this.reportedDrops.events;
    if (dropped === 0 && this.reportedDrops.bytes === 0) return undefined;
    return { droppedEvents: dropped, droppedBytes: this.reportedDrops.bytes, missingSeqs: this.missing(100) };
  }

  /** The result from what arrived. Call once the stream is complete or nothing more can be recovered. */
  result(): HostResult {
    const t = this.terminal;
    const base = {
      host: this.host,
      stdout: inSeqOrder(this.chunks.stdout),
      stderr: inSeqOrder(this.chunks.stderr),
      ...(this.gap() ? { gap: this.gap() } : {}),
    };
    if (!t) return { ...base, ...noAnswer(this.host, this.accepted !== undefined) };
    if (t.type === 'result') {
      return {
        ...base,
        state: stateOf(t),
        code: t.code,
        signal: t.signal ?? null,
        durationMs: t.durationMs,
        ...(t.value !== undefined ? { value: t.value } : {}),
        ...(t.timedOut ? { timedOut: true } : {}),
        ...(t.killed ? { killed: true } : {}),
      };
    }
    if (t.type === 'error') {
      return { ...base, state: stateOf(t), code: t.code, signal: null, durationMs: t.durationMs ?? null, error: { code: t.error, message: t.message } };
    }
    if (t.type === 'lost') {
      return { ...base, state: 'lost', code: t.code, signal: null, durationMs: null, error: { code: 'LOST', message: t.message } };
    }
    return { ...base, state: 'error', code: null, signal: null, durationMs: null };
  }
}

function inSeqOrder(chunks: Map<number, Buffer>): Buffer {
  return Buffer.concat([...chunks].sort((a, b) => a[0] - b[0]).map(([, b]) => b));
}

function noAnswer(host: string, accepted: boolean): Pick<HostResult, 'state' | 'code' | 'signal' | 'durationMs' | 'error'> {
  if (accepted) return { state: 'running', code: null, signal: null, durationMs: null, error: { code: 'RUNNING', message: `${host} accepted the job and had not finished when the wait ended` } };
  return { state: 'no-answer', code: null, signal: null, durationMs: null, error: { code: 'NO_ANSWER', message: `${host} did not answer in time` } };
}

/** A result with no terminal event says why (the wait ran out, the controller closed, nothing was sent). */
export function withReason(r: HostResult, why: string): HostResult {
  return r.state === 'no-answer' || r.state === 'running' ? { ...r, error: { code: r.error!.code, message: `${r.host}: ${why}` } } : r;
}

/** The synthetic result of a host that presence says is offline (the command stays queued for it). */
export function offlineResult(host: string, message: string): HostResult {
  return { host, state: 'offline', code: null, signal: null, durationMs: null, stdout: Buffer.alloc(0), stderr: Buffer.alloc(0), error: { code: 'OFFLINE', message } };
}

/** The host refused the command's signature [cp-sig-5] (a notice, never a job event). */
export function refusedResult(host: string, code: SignatureErrorCode, message: string): HostResult {
  return { host, state: 'rejected', code: ErrorCodes[code], signal: null, durationMs: null, stdout: Buffer.alloc(0), stderr: Buffer.alloc(0), error: { code, message } };
}

/**
 * A terminal event that does not verify against the host's pinned key [cp-sig-8]: whoever can
 * publish on the job topic wrote it, so it is never taken as the host's answer. What the host
 * itself sent before it (output) is kept for the record.
 */
export function forgedResult(stream: HostStream | undefined, host: string, why: string): HostResult {
  const { stdout, stderr, gap } = (stream ?? new HostStream(host)).result();
  return { host, state: 'forged', code: null, signal: null, durationMs: null, stdout, stderr, ...(gap ? { gap } : {}), error: { code: 'FORGED', message: why } };
}
