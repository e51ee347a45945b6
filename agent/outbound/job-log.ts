// The ordered event log of one job, owned by its Job: numbered events, the gap left where the spool
// had to drop some [cp-evt-7], the terminal event. Only this class changes it; the outbox and the
// replay store read it through its methods.
import type { KeyObject } from 'node:crypto';
import { encodeFrame, frameIn, isTerminal, jsonOutputData, MAX_CHUNK_BYTES, MAX_FRAME_DATA_BYTES, topics, type FrameStream, type JobEventBody, type OutputEncoding } from '../../protocol/index.js';
import { encodeEvent } from './event-fit.js';
import type { Spool, SpoolEntry, SpoolFile } from './spool.js';
import { Window, type Transport } from './window.js';

type AcceptedBody = Extract<JobEventBody, { type: 'accepted' }>;

export interface JobLogDeps {
  spool: Spool;
  transport: Transport;
  windowSize: number;
  /** Told after each acknowledgement, once the log has accounted for it. */
  onAcked(log: JobLog, e: SpoolEntry): void;
  /** Signs terminal events [cp-sig-8]. */
  signingKey?: KeyObject;
  /** How output events are written: frames (`raw`) or JSON events [cp-env-13]. */
  out?: OutputEncoding;
}

export class JobLog {
  private readonly entries: SpoolEntry[] = [];
  private readonly file: SpoolFile;
  private readonly window: Window;
  private seq: number;
  /** Events dropped since the last one kept: the next kept event is preceded by a gap event counting them. */
  private droppedEvents = 0;
  private droppedBytes = 0;
  private endTime: number | undefined;
  /** An `accepted` held back by hold(): a terminal appended meanwhile carries it instead [cp-fold-2]. */
  private held: { body: AcceptedBody; ts: number; timer: NodeJS.Timeout } | undefined;

  constructor(
    readonly host: string,
    readonly job: string,
    firstSeq: number,
    private readonly deps: JobLogDeps,
  ) {
    this.seq = firstSeq;
    this.file = deps.spool.file(job);
    this.window = new Window(firstSeq, topics.job(host, job), deps.windowSize, deps.transport, {
      nextSeq: () => this.seq,
      entry: (seq) => this.entry(seq),
      bytes: (e) => deps.spool.read(this.file, e),
      acked: (e) => this.acked(e),
    });
  }

  /** Oldest seq still kept. */
  get firstSeq(): number {
    return this.entries.length ? this.entries[0].seq : this.seq;
  }

  get nextSeq(): number {
    return this.seq;
  }

  /** Next seq to hand to the transport: everything below it was published at least once. */
  get sentSeq(): number {
    return this.window.sentSeq;
  }

  get ended(): boolean {
    return this.endTime !== undefined;
  }

  get endedAt(): number | undefined {
    return this.endTime;
  }

  /** Every event appended so far is acknowledged. */
  get settled(): boolean {
    return !this.held && this.window.ackedSeq >= this.seq;
  }

  /**
   * Holds the job's `accepted` for up to `ms` [cp-fold-2]: when the terminal event comes first it
   * goes out alone, as seq 0, carrying the `accepted` fields (one publish instead of two); any
   * other event, or the time running out, sends the `accepted` first, as without folding.
   */
  hold(accepted: AcceptedBody, ms: number): void {
    if (this.ended || this.held || this.seq !== 0) return void this.append(accepted);
    const timer = setTimeout(() => this.flushHeld(), ms);
    timer.unref();
    this.held = { body: accepted, ts: Date.now(), timer };
  }

  /** How this job's output events are written [cp-env-13]. */
  get out(): OutputEncoding {
    return this.deps.out ?? 'json';
  }

  /** Raw bytes per output event: a frame carries four times a JSON event's chunk [cp-frame-3]. */
  get chunkBytes(): number {
    return this.deps.out === 'raw' ? MAX_FRAME_DATA_BYTES : MAX_CHUNK_BYTES;
  }

  /**
   * Appends an event. Returns false when it was dropped (spool full); the next event that fits is
   * preceded by a gap event counting what was dropped. Terminal events are never dropped.
   */
  append(body: JobEventBody, ts = Date.now()): boolean {
    if (this.ended) return false;
    const ev = this.held ? this.unhold(body) : body;
    const terminal = isTerminal(ev);
    const key = terminal ? this.deps.signingKey : undefined;
    return this.put(terminal, (seq) => encodeEvent(this.host, this.job, seq, ev, key, ts));
  }

  /**
   * Appends one output chunk (at most `chunkBytes`) in the job's encoding: a frame of its bytes
   * [cp-frame-2], or a JSON event with text or base64 [cp-evt-3] (`update` text stays text).
   * The spool, `replay` and the gap accounting keep these bytes as they are, like any event.
   */
  appendOutput(stream: FrameStream, chunk: Buffer | string): boolean {
    // Output follows its job's `accepted`, which goes out first [cp-fold-2].
    if (this.held) this.flushHeld();
    if (this.deps.out === 'raw') {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      return this.put(false, (seq) => encodeFrame(seq, Date.now(), stream, bytes));
    }
    const data = typeof chunk === 'string' ? { data: chunk } : jsonOutputData(chunk);
    return this.put(false, (seq) => encodeEvent(this.host, this.job, seq, { type: 'output', stream, ...data }));
  }

  /** Appends a frame of a raw job's gathered output: its bytes after FRAME_HEADER_BYTES of room (OutputBatch). */
  appendGathered(stream: FrameStream, frame: Buffer): boolean {
    if (this.held) this.flushHeld();
    return this.put(false, (seq) => frameIn(frame, seq, Date.now(), stream));
  }

  /** Stores the event `encode` makes for the next seq, behind a gap event when some were dropped. */
  private put(terminal: boolean, encode: (seq: number) => Buffer): boolean {
    if (this.ended) return false;
    const spool = this.deps.spool;
    if (this.droppedEvents > 0) {
      const gap = encodeEvent(this.host, this.job, this.seq, { type: 'gap', droppedEvents: this.droppedEvents, droppedBytes: this.droppedBytes, reason: 'spool bound exceeded while disconnected' });
      const next = encode(this.seq + 1); // measured only
      // The gap goes right before the first event kept after the hole, or the receiver cannot tell
      // where the hole is: an event that fits while its gap does not is dropped too.
      if (!terminal && !spool.fits(gap.length + next.length)) return this.drop(next.length);
      this.droppedEvents = this.droppedBytes = 0;
      this.store(gap, false);
    }
    const buf = encode(this.seq);
    if (!terminal && !spool.fits(buf.length)) return this.drop(buf.length);
    this.store(buf, terminal);
    if (terminal) this.endTime = Date.now();
    this.window.pump();
    return true;
  }

  /** Events of this job that may await their acknowledgement at once [cp-spool-1]. */
  get windowSize(): number {
    return this.deps.windowSize;
  }

  /** Whether fewer than `limit` (default: the window) of its events await an ack, or the link is down (see Window.hasRoom). */
  hasRoom(limit?: number): boolean {
    return this.window.hasRoom(limit);
  }

  /** Resolves when the job may produce more output: once hasRoom(limit) holds (see Window.room). */
  room(limit?: number): Promise<void> {
    return this.window.room(limit);
  }

  /** Publishes what waits, e.g. after a reconnect. */
  pump(): void {
    this.window.pump();
  }

  /** Releases producers waiting for room, e.g. on a disconnect (the spool takes their output). */
  wake(): void {
    this.window.wake();
  }

  /** The stored bytes of published events from `fromSeq` on, read one at a time. */
  *published(fromSeq: number): Generator<Buffer> {
    const upTo = this.sentSeq;
    for (let seq = Math.max(fromSeq, this.firstSeq); seq < upTo; seq++) {
      const e = this.entry(seq);
      if (e) yield this.deps.spool.read(this.file, e);
    }
  }

  /** Drops acknowledged events, oldest first, while `over()` says the replay store is too big. */
  evictAcked(over: () => boolean): void {
    while (this.entries.length && this.entries[0].seq < this.window.ackedSeq && over()) this.deps.spool.released(this.entries.shift()!);
  }

  /** Gives up every event and the spool file (a fully acknowledged job being forgotten). */
  release(): void {
    for (const e of this.entries) this.deps.spool.released(e);
    this.entries.length = 0;
    this.file.remove();
  }

  private releaseHold(): { body: AcceptedBody; ts: number } {
    const { body, ts, timer } = this.held!;
    clearTimeout(timer);
    this.held = undefined;
    return { body, ts };
  }

  /** The job's end with its held `accepted` inside; anything else after it, which goes out first [cp-fold-2]. */
  private unhold(next: JobEventBody): JobEventBody {
    if (next.type !== 'result' && next.type !== 'error') {
      this.flushHeld();
      return next;
    }
    const { type: _accepted, ...fields } = this.releaseHold().body;
    return { ...next, accepted: fields };
  }

  /** The hold ran out (or output came): its `accepted` goes out as usual, stamped when it was made. */
  private flushHeld(): void {
    if (!this.held) return;
    const { body, ts } = this.releaseHold();
    this.append(body, ts);
  }

  private drop(len: number): false {
    this.droppedEvents++;
    this.droppedBytes += len;
    return false;
  }

  private store(buf: Buffer, terminal: boolean): void {
    this.entries.push(this.deps.spool.store(this.file, this.seq++, buf, terminal));
  }

  private entry(seq: number): SpoolEntry | undefined {
    const i = seq - this.firstSeq;
    return i >= 0 && i < this.entries.length ? this.entries[i] : undefined;
  }

  private acked(e: SpoolEntry): void {
    this.deps.spool.acked(e);
    if (e.terminal) this.file.close();
    this.deps.onAcked(this, e);
  }
}
