// Every event of every job passes through here on its way out: numbered and kept in order by the
// job's log, published with a per-job window (backpressure for the job's output), spooled while the
// link is down (memory, then disk, bounded: past the bound one explicit gap event, never a silent
// hole [cp-evt-7]), and kept for `replay` for a while after it was acknowledged [cp-replay-1].
import type { KeyObject } from 'node:crypto';
import type { OutputEncoding } from '../../protocol/index.js';
import { JobLog } from './job-log.js';
import { ReplayStore } from './replay-store.js';
import { Spool, type SpoolEntry } from './spool.js';
import type { Transport } from './window.js';

export type { Transport } from './window.js';
export type { JobLog } from './job-log.js';

export interface OutboxLimits {
  windowSize: number;
  spoolMemoryBytes: number;
  spoolDiskBytes: number;
  replayBytes: number;
  replayRetentionMs: number;
  /** Finished jobs kept for replay at most; the oldest go first (each costs heap beyond its bytes). */
  replayJobs: number;
}

export interface OutboxListeners {
  /** A job's terminal event was acknowledged: the job can no longer be lost. */
  onTerminalAcked?(job: string): void;
  /** A job's log was forgotten (retention, or the replay store's bounds). */
  onForget?(job: string): void;
}

export class Outbox {
  private readonly logs = new Map<string, JobLog>();
  private readonly spool: Spool;
  private readonly store: ReplayStore;

  constructor(
    private readonly transport: Transport,
    private readonly limits: OutboxLimits,
    spoolDir: string,
    private readonly listeners: OutboxListeners = {},
    /** The agent's key: terminal events are signed with it [cp-sig-8]. */
    private readonly signingKey?: KeyObject,
  ) {
    this.spool = new Spool(limits, spoolDir);
    this.store = new ReplayStore(this.logs, this.spool, transport, limits, (log) => this.forget(log));
  }

  /** Starts a job's log; its first event gets `firstSeq`; `out` is how it writes output [cp-env-13]. */
  open(host: string, job: string, firstSeq = 0, out?: OutputEncoding): JobLog {
    const log = new JobLog(host, job, firstSeq, {
      spool: this.spool,
      transport: this.transport,
      windowSize: this.limits.windowSize,
      onAcked: (l, e) => this.acked(l, e),
      signingKey: this.signingKey,
      out,
    });
    this.logs.set(job, log);
    return log;
  }

  get(job: string): JobLog | undefined {
    return this.logs.get(job);
  }

  /** Publishes everything waiting, e.g. after a reconnect. */
  pumpAll(): void {
    for (const log of this.logs.values()) log.pump();
  }

  /** On disconnect, producers stop waiting for acks: their output goes to the spool. */
  wakeAll(): void {
    for (const log of this.logs.values()) log.wake();
  }

  /** Forgets finished jobs older than the retention. */
  sweep(now = Date.now()): void {
    this.store.sweep(now);
  }

  /** Republishes a job's kept events from `fromSeq` [cp-replay-1]. */
  replay(log: JobLog, fromSeq: number): Promise<{ replayed: number; firstAvailable: number }> {
    return this.store.replay(log, fromSeq);
  }

  /** Resolves when every event handed out so far is acknowledged, or after `ms`. */
  async drain(ms: number): Promise<void> {
    const until = Date.now() + ms;
    while (Date.now() < until && [...this.logs.values()].some((l) => !l.settled)) {
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  private acked(log: JobLog, e: SpoolEntry): void {
    if (e.terminal) {
      this.listeners.onTerminalAcked?.(log.job);
      this.store.finish(log);
    }
    this.store.evict();
  }

  private forget(log: JobLog): void {
    log.release();
    this.logs.delete(log.job);
    this.listeners.onForget?.(log.job);
  }
}
