// Finished jobs' events kept for `replay` after they were acknowledged [cp-replay-1]: at most
// `replayJobs` jobs (each costs heap beyond its bytes), each for `replayRetentionMs`, their events
// within the replay byte bounds (the oldest acknowledged events go first).
import type { JobLog } from './job-log.js';
import type { Spool } from './spool.js';
import type { Transport } from './window.js';
import { topics } from '../../protocol/index.js';

export interface ReplayLimits {
  windowSize: number;
  replayRetentionMs: number;
  replayJobs: number;
}

export class ReplayStore {
  /** Finished, fully acknowledged jobs in the order they finished. */
  private readonly finished: string[] = [];

  constructor(
    private readonly logs: ReadonlyMap<string, JobLog>,
    private readonly spool: Spool,
    private readonly transport: Transport,
    private readonly limits: ReplayLimits,
    /** Removes a fully acknowledged job's log for good. */
    private readonly forget: (log: JobLog) => void,
  ) {}

  /** A job's terminal event was acknowledged: it joins the store, and the oldest past the count bound leave. */
  finish(log: JobLog): void {
    this.finished.push(log.job);
    while (this.finished.length > this.limits.replayJobs) {
      const old = this.logs.get(this.finished.shift()!);
      if (old) this.forget(old);
    }
  }

  /** Drops the oldest acknowledged events of any job while the store is over its byte bounds. */
  evict(): void {
    const over = () => this.spool.overRetained();
    if (!over()) return;
    for (const log of this.logs.values()) {
      log.evictAcked(over);
      if (!over()) return;
    }
  }

  /** Forgets finished jobs older than the retention. */
  sweep(now = Date.now()): void {
    for (const log of [...this.logs.values()]) {
      if (log.ended && log.settled && now - log.endedAt! > this.limits.replayRetentionMs) this.forget(log);
    }
    const kept = this.finished.filter((id) => this.logs.has(id));
    this.finished.splice(0, this.finished.length, ...kept);
  }

  /**
   * Republishes the events of a job already handed to the broker, from `fromSeq`, on its topic;
   * receivers drop what they already have by seq. Events still in the spool follow in order anyway.
   * Returns what was sent and the oldest seq still kept.
   */
  async replay(log: JobLog, fromSeq: number): Promise<{ replayed: number; firstAvailable: number }> {
    const firstAvailable = log.firstSeq;
    const topic = topics.job(log.host, log.job);
    let replayed = 0;
    const pending: Promise<void>[] = [];
    for (const bytes of log.published(fromSeq)) {
      pending.push(this.transport.publish(topic, bytes).catch(() => undefined));
      replayed++;
      if (pending.length >= this.limits.windowSize) await Promise.all(pending.splice(0));
    }
    await Promise.all(pending);
    return { replayed, firstAvailable };
  }
}
