// A job's publish window: at most `size` of its events handed to the transport and not yet
// acknowledged, handed out in seq order. Acks arrive in order per job (one MQTT connection, QoS 1,
// MQTT 3.1.1 §4.6). A producer waits for room, which is the backpressure on the job's output, unless
// the link is down: then the spool takes its output instead.
import type { SpoolEntry } from './spool.js';

export interface Transport {
  connected(): boolean;
  /** Publishes QoS 1 and resolves on PUBACK (across reconnects: the MQTT client resends). */
  publish(topic: string, payload: Buffer): Promise<void>;
}

/** What the window reads from the job's log. */
export interface WindowSource {
  /** Seq the next appended event will get. */
  nextSeq(): number;
  entry(seq: number): SpoolEntry | undefined;
  bytes(e: SpoolEntry): Buffer;
  /** The transport is done with the entry (acknowledged, or the client was ended). */
  acked(e: SpoolEntry): void;
}

export class Window {
  /** Next seq to hand to the transport. */
  private sent: number;
  /** Highest seq acknowledged + 1. */
  private acked: number;
  private inflight = 0;
  private waiters: { limit: number; resolve: () => void }[] = [];

  constructor(
    firstSeq: number,
    private readonly topic: string,
    private readonly size: number,
    private readonly transport: Transport,
    private readonly source: WindowSource,
  ) {
    this.sent = this.acked = firstSeq;
  }

  get sentSeq(): number {
    return this.sent;
  }

  get ackedSeq(): number {
    return this.acked;
  }

  /** Hands events to the transport while connected and the window has room. */
  pump(): void {
    while (this.transport.connected() && this.inflight < this.size && this.sent < this.source.nextSeq()) {
      const e = this.source.entry(this.sent);
      this.sent++;
      if (!e) continue; // evicted while unsent cannot happen (only acked entries are evicted)
      this.inflight++;
      this.transport.publish(this.topic, this.source.bytes(e)).then(
        () => this.onAck(e),
        () => this.onAck(e), // the client was ended: nothing more can be done for it
      );
    }
  }

  private onAck(e: SpoolEntry): void {
    this.inflight--;
    this.acked = Math.max(this.acked, e.seq + 1);
    this.source.acked(e);
    this.pump();
    this.wake();
  }

  /** Whether the job may append another event now: fewer than `limit` unacknowledged (the window), or offline. */
  hasRoom(limit = this.size): boolean {
    return !this.transport.connected() || this.source.nextSeq() - this.acked < limit;
  }

  /** Resolves when the job may produce more output: fewer than `limit` unacknowledged, or offline (then the spool takes it). */
  room(limit = this.size): Promise<void> {
    if (this.hasRoom(limit)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ limit, resolve }));
  }

  /** Releases waiting producers once there is room for them (or the link went down). */
  wake(): void {
    if (this.waiters.length === 0) return;
    const still = this.waiters.filter((w) => !this.hasRoom(w.limit));
    if (still.length === this.waiters.length) return;
    const ready = this.waiters.filter((w) => this.hasRoom(w.limit));
    this.waiters = still;
    for (const w of ready) w.resolve();
  }
}
