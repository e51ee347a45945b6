// Every event of every job passes through here: numbered, kept in order, published with a per-job
// window (backpressure for the job's output), spooled while the link is down (memory, then disk,
// bounded: past the bound one explicit gap event, never a silent hole [cp-evt-7]), and kept for
// `replay` for a while after it was acknowledged [cp-replay-1].
import { closeSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_EVENT_BYTES, PROTOCOL_VERSION, topics, isTerminal, type JobEvent, type JobEventBody } from '../protocol/index.js';
import { previewArgs } from './preview.js';

export interface Transport {
  connected(): boolean;
  /** Publishes QoS 1 and resolves on PUBACK (across reconnects: the MQTT client resends). */
  publish(topic: string, payload: Buffer): Promise<void>;
}

export interface OutboxLimits {
  windowSize: number;
  spoolMemoryBytes: number;
  spoolDiskBytes: number;
  replayBytes: number;
  replayRetentionMs: number;
  /** Finished jobs kept for replay at most; the oldest go first (each costs heap beyond its bytes). */
  replayJobs: number;
}

interface Entry {
  seq: number;
  len: number;
  terminal: boolean;
  buf?: Buffer;
  /** Offset in the job's spool file when the bytes live on disk. */
  off?: number;
}

/** The ordered event log of one job. */
export class JobLog {
  readonly entries: Entry[] = [];
  nextSeq = 0;
  /** Next seq to hand to the transport. */
  sent = 0;
  /** Highest seq acknowledged + 1 (acks arrive in order per job: one MQTT connection, QoS 1). */
  acked = 0;
  inflight = 0;
  ended = false;
  endedAt = 0;
  droppedEvents = 0;
  droppedBytes = 0;
  /** Open only while the job can still spill; a finished job's file is opened per replay read. */
  fd: number | undefined;
  spilled = false;
  fileSize = 0;
  waiters: (() => void)[] = [];
  onTerminalAcked?: () => void;

  constructor(
    readonly host: string,
    readonly job: string,
  ) {}

  get firstSeq(): number {
    return this.entries.length ? this.entries[0].seq : this.nextSeq;
  }
}

/** Longest error message kept when an error event would exceed the event limit. */
const MAX_MESSAGE_CHARS = 4096;

/**
 * An event over the size limit, made to fit with an explicit marker, never cut silently [cp-limit-3].
 * Producers chunk output; what remains is a result value, the arguments an `accepted` echoes, or an
 * error message naming a huge path. An event over the broker's packet limit would be resent on every
 * reconnect and wedge the connection (LESSONS: a poison message loops).
 */
function shrink(ev: JobEvent, size: number): JobEvent {
  const over = `${size} bytes, over the ${MAX_EVENT_BYTES}-byte event limit`;
  switch (ev.type) {
    case 'result': {
      const { value: _drop, ...rest } = ev;
      return { ...rest, valueOmitted: `value was ${over}` };
    }
    case 'accepted':
      return { ...ev, args: previewArgs(ev.args), argsOmitted: `the event was ${over}; arguments are shortened, marked with their length` } as JobEvent;
    case 'error':
    case 'lost':
      return { ...ev, message: `${ev.message.slice(0, MAX_MESSAGE_CHARS)}…(message cut: the event was ${over})` };
    default:
      return ev;
  }
}

export class Outbox {
  private readonly logs = new Map<string, JobLog>();
  /** Finished, fully acknowledged jobs in the order they finished. */
  private readonly finished: string[] = [];
  /** Told when a job's log is forgotten, so the agent can forget the job too. */
  onForget?: (job: string) => void;
  private memUnsent = 0;
  private memRetained = 0;
  /** Spooled (unacknowledged) bytes on disk: what the spool bound limits. */
  private disk = 0;
  /** Acknowledged bytes still on disk for replay; bounded separately so one outage cannot starve the next. */
  private diskRetained = 0;

  constructor(
    private readonly transport: Transport,
    private readonly limits: OutboxLimits,
    private readonly spoolDir: string,
  ) {}

  open(host: string, job: string, firstSeq = 0): JobLog {
    const log = new JobLog(host, job);
    log.nextSeq = log.sent = log.acked = firstSeq;
    this.logs.set(job, log);
    return log;
  }

  get(job: string): JobLog | undefined {
    return this.logs.get(job);
  }

  all(): JobLog[] {
    return [...this.logs.values()];
  }

  /**
   * Appends an event. Returns false when it was dropped (spool full); the next event that fits is
   * preceded by a gap event counting what was dropped. Terminal events are never dropped.
   */
  append(log: JobLog, body: JobEventBody): boolean {
    if (log.ended) return false;
    const terminal = isTerminal(body);
    if (log.droppedEvents > 0) {
      const gap: JobEventBody = { type: 'gap', droppedEvents: log.droppedEvents, droppedBytes: log.droppedBytes, reason: 'spool bound exceeded while disconnected' };
      const gapBuf = this.encode(log, gap);
      const next = this.encode(log, body);
      log.nextSeq -= 2; // measured only
      // The gap goes right before the first event kept after the hole, or the receiver cannot tell
      // where the hole is: an event that fits while its gap does not is dropped too.
      if (!terminal && !this.fits(gapBuf.length + next.length)) return this.drop1(log, next.length);
      log.droppedEvents = log.droppedBytes = 0;
      log.nextSeq++;
      this.place(log, gapBuf, false);
    }
    const buf = this.encode(log, body);
    if (!terminal && !this.fits(buf.length)) {
      log.nextSeq--; // the seq was not used
      return this.drop1(log, buf.length);
    }
    this.place(log, buf, terminal);
    if (terminal) {
      log.ended = true;
      log.endedAt = Date.now();
    }
    this.pump(log);
    return true;
  }

  private drop1(log: JobLog, len: number): false {
    log.droppedEvents++;
    log.droppedBytes += len;
    return false;
  }

  private encode(log: JobLog, body: JobEventBody): Buffer {
    const ev = { v: PROTOCOL_VERSION, host: log.host, job: log.job, seq: log.nextSeq++, ts: Date.now(), ...body } as JobEvent;
    const buf = Buffer.from(JSON.stringify(ev));
    return buf.length > MAX_EVENT_BYTES ? Buffer.from(JSON.stringify(shrink(ev, buf.length))) : buf;
  }

  private fits(len: number): boolean {
    return this.memUnsent + len <= this.limits.spoolMemoryBytes || this.disk + len <= this.limits.spoolDiskBytes;
  }

  private place(log: JobLog, buf: Buffer, terminal: boolean): void {
    const seq = log.nextSeq - 1;
    if (terminal || this.memUnsent + buf.length <= this.limits.spoolMemoryBytes) {
      log.entries.push({ seq, len: buf.length, terminal, buf });
      this.memUnsent += buf.length;
      return;
    }
    log.fd ??= openSync(join(this.spoolDir, `${log.job}.spool`), 'w+');
    log.spilled = true;
    writeSync(log.fd, buf, 0, buf.length, log.fileSize);
    log.entries.push({ seq, len: buf.length, terminal, off: log.fileSize });
    log.fileSize += buf.length;
    this.disk += buf.length;
  }

  private read(log: JobLog, e: Entry): Buffer {
    if (e.buf) return e.buf;
    const out = Buffer.allocUnsafe(e.len);
    if (log.fd !== undefined) {
      readSync(log.fd, out, 0, e.len, e.off!);
      return out;
    }
    const fd = openSync(join(this.spoolDir, `${log.job}.spool`), 'r');
    try {
      readSync(fd, out, 0, e.len, e.off!);
    } finally {
      closeSync(fd);
    }
    return out;
  }

  private entry(log: JobLog, seq: number): Entry | undefined {
    const i = seq - log.firstSeq;
    return i >= 0 && i < log.entries.length ? log.entries[i] : undefined;
  }

  /** Hands events to the transport while connected and the job's window has room. */
  pump(log: JobLog): void {
    while (this.transport.connected() && log.inflight < this.limits.windowSize && log.sent < log.nextSeq) {
      const e = this.entry(log, log.sent);
      log.sent++;
      if (!e) continue; // evicted while unsent cannot happen (only acked entries are evicted)
      log.inflight++;
      const topic = topics.job(log.host, log.job);
      this.transport.publish(topic, this.read(log, e)).then(
        () => this.onAck(log, e),
        () => this.onAck(log, e), // the client was ended: nothing more can be done for it
      );
    }
  }

  /** Publishes everything waiting, e.g. after a reconnect. */
  pumpAll(): void {
    for (const log of this.logs.values()) this.pump(log);
  }

  private onAck(log: JobLog, e: Entry): void {
    log.inflight--;
    log.acked = Math.max(log.acked, e.seq + 1);
    if (e.buf) {
      this.memUnsent -= e.len;
      this.memRetained += e.len;
    } else {
      this.disk -= e.len;
      this.diskRetained += e.len;
    }
    if (e.terminal) {
      log.onTerminalAcked?.();
      // Hundreds of finished jobs kept for replay must not hold hundreds of open files.
      if (log.fd !== undefined) {
        closeSync(log.fd);
        log.fd = undefined;
      }
      this.finished.push(log.job);
      while (this.finished.length > this.limits.replayJobs) {
        const old = this.logs.get(this.finished.shift()!);
        if (old) this.drop(old.job, old);
      }
    }
    this.evict();
    this.pump(log);
    this.wake(log);
  }

  /** Resolves when the job may produce more output: window open, or offline (then the spool takes it). */
  room(log: JobLog): Promise<void> {
    if (!this.transport.connected() || log.nextSeq - log.acked < this.limits.windowSize) return Promise.resolve();
    return new Promise((resolve) => log.waiters.push(resolve));
  }

  private wake(log: JobLog): void {
    if (log.waiters.length && (!this.transport.connected() || log.nextSeq - log.acked < this.limits.windowSize)) {
      const ws = log.waiters.splice(0);
      for (const w of ws) w();
    }
  }

  /** On disconnect, producers stop waiting for acks: their output goes to the spool. */
  wakeAll(): void {
    for (const log of this.logs.values()) this.wake(log);
  }

  /** Drops the oldest acknowledged events of any job when the replay store is over its bound. */
  private evict(): void {
    const over = () => this.memRetained > this.limits.replayBytes || this.diskRetained > this.limits.spoolDiskBytes;
    if (!over()) return;
    for (const log of this.logs.values()) {
      while (log.entries.length && log.entries[0].seq < log.acked && over()) {
        const e = log.entries.shift()!;
        if (e.buf) this.memRetained -= e.len;
        else this.diskRetained -= e.len;
      }
      if (!over()) return;
    }
  }

  /** Forgets finished jobs older than the retention. */
  sweep(now = Date.now()): void {
    for (const [id, log] of this.logs) {
      if (log.ended && log.acked >= log.nextSeq && now - log.endedAt > this.limits.replayRetentionMs) this.drop(id, log);
    }
    const kept = this.finished.filter((id) => this.logs.has(id));
    this.finished.splice(0, this.finished.length, ...kept);
  }

  private drop(id: string, log: JobLog): void {
    // Only fully acknowledged jobs are dropped, so every entry counts as retained.
    for (const e of log.entries) {
      if (e.buf) this.memRetained -= e.len;
      else this.diskRetained -= e.len;
    }
    if (log.fd !== undefined) closeSync(log.fd);
    if (log.spilled) rmSync(join(this.spoolDir, `${id}.spool`), { force: true });
    this.logs.delete(id);
    this.onForget?.(id);
  }

  /**
   * Republishes the events of a job already handed to the broker, from `fromSeq`, on its topic
   * [cp-replay-1]; receivers drop what they already have by seq. Events still in the spool follow in
   * order anyway. Returns what was sent and the oldest seq still kept.
   */
  async replay(log: JobLog, fromSeq: number): Promise<{ replayed: number; firstAvailable: number }> {
    const firstAvailable = log.firstSeq;
    const upTo = log.sent;
    let replayed = 0;
    const topic = topics.job(log.host, log.job);
    const pending: Promise<void>[] = [];
    for (let seq = Math.max(fromSeq, firstAvailable); seq < upTo; seq++) {
      const e = this.entry(log, seq);
      if (!e) continue;
      pending.push(this.transport.publish(topic, this.read(log, e)).catch(() => undefined));
      replayed++;
      if (pending.length >= this.limits.windowSize) await Promise.all(pending.splice(0));
    }
    await Promise.all(pending);
    return { replayed, firstAvailable };
  }

  /** Resolves when every event handed out so far is acknowledged, or after `ms`. */
  async drain(ms: number): Promise<void> {
    const until = Date.now() + ms;
    while (Date.now() < until && [...this.logs.values()].some((l) => l.acked < l.nextSeq)) {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
