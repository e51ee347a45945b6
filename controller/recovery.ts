// Getting back what a job's stream is missing: the agent keeps every job's events and republishes
// them from a seq on `replay <job> <from>` [cp-replay-1]. Asked when a hole stays open, when a
// terminal arrives with events missing before it, and after the controller reconnects. This file
// decides when to ask and keeps one replay per host at a time; the job decides what a replay's
// outcome means for its result.
import type { HostResult } from './collect.js';

/** How long a seq hole may stay open mid-stream before the host is asked to replay from it. */
export const HOLE_WAIT_MS = 500;
/** After a replay ends, how long to wait for replayed events still in flight. */
export const REPLAY_GRACE_MS = 250;
/**
 * The most a replay's republished events may lag behind its own result. They travel on the job's
 * topic and the result on the replay job's: MQTT orders messages per topic only [MQTT-4.6.0], and
 * across a cluster (two brokers on Redis, NATS JetStream) the two paths differ by seconds under load.
 */
export const REPLAY_ARRIVAL_MS = 10_000;
/** However the events keep coming, one replay's events are waited for at most this long. */
export const REPLAY_ARRIVAL_MAX_MS = 120_000;

/**
 * How long replays that never reached the host (it was offline or stale, or did not answer: its
 * broker node had just died) are asked again before the hole is given up: about half a second
 * apart. Only a replay the host answered can show that the events are gone. A time, not a count:
 * on a loaded cluster a host that failed over within milliseconds is seen online again only after
 * the events it resends first (10–20 s on NATS JetStream under a full test run).
 */
export const UNANSWERED_REPLAYS_MS = 60_000;
/**
 * Once the terminal is in, the most replays per host the host answers (each costs it a republish of
 * everything from the hole, so a count bounds them); those that never reach it are bounded by
 * UNANSWERED_REPLAYS_MS from the first of them.
 */
export const ANSWERED_REPLAYS = 8;
/** Replay outcomes that prove nothing about the events: the host never saw it, or accepted it and did not finish within the wait. */
const UNANSWERED: ReadonlySet<HostResult['state']> = new Set(['offline', 'no-answer', 'lost', 'expired', 'running']);

/** What a `replay` job answers [cp-replay-1]. */
interface ReplayValue {
  from?: number;
  replayed?: number;
  firstAvailable?: number;
}

/** What recovery needs to know about, and may do to, the job it serves. */
export interface RecoveryHooks {
  /** Sends `replay <job> <from>` to one host; resolves with that command's result. */
  replay(host: string, from: number): Promise<HostResult>;
  /** The seq the host's stream waits for while later events are held back (ReorderBuffer.waitingFor). */
  waitingFor(host: string): number | undefined;
  /**
   * The lowest seq from `from` below the host's terminal (or highest seen) that never arrived, held back or not:
   * a hole the reorder buffer gave up on to let a long stream move on is still missing here.
   */
  firstMissing(host: string, from: number): number | undefined;
  /** How many events of the job have arrived from the host so far, duplicates included. */
  heard(host: string): number;
  /** A replay could not fill the hole: the stream moves on without it. */
  skipHole(host: string): void;
  /** The hole at `from` stayed open: ask for a replay (the job's recover, which judges the outcome). */
  recover(host: string, from: number): void;
  /** The host has its final result: nothing more to recover. */
  settled(host: string): boolean;
}

/** A host's replays since its terminal arrived: what they proved, and how much is left to try. */
interface Endgame {
  /** Answered replays so far (ANSWERED_REPLAYS bounds them). */
  answered: number;
  /** Seqs below this are gone for good: a replay answered that the host keeps nothing older [cp-replay-2]. */
  goneBelow: number;
  /** When the first replay that never reached the host ended (UNANSWERED_REPLAYS_MS counts from it). */
  firstUnansweredAt?: number;
  timer?: NodeJS.Timeout;
}

export class Recovery {
  private readonly replaying = new Set<string>();
  private readonly holes = new Map<string, { timer?: NodeJS.Timeout; triedFrom?: number; firstUnansweredAt?: number }>();
  private readonly endgames = new Map<string, Endgame>();

  constructor(
    private readonly hooks: RecoveryHooks,
    private readonly graceMs = REPLAY_GRACE_MS,
    private readonly holeWaitMs = HOLE_WAIT_MS,
    private readonly arrivalMs = REPLAY_ARRIVAL_MS,
    private readonly unansweredMs = UNANSWERED_REPLAYS_MS,
  ) {}

  /**
   * A replay from `from` ended (answered `r`) while the host's terminal is in and events are still
   * missing: the seq to ask from next, or undefined when nothing more can be recovered and the result
   * reports the gap [cp-evt-7]. Only an answer shows events are gone: the host keeps nothing that
   * old (seqs below `firstAvailable`, [cp-replay-2]) or nothing from there (`replayed` 0); an error
   * or an answer without a count ends it too. Otherwise the host is asked again, from the first seq
   * still missing: its events never came (lost in transit: a cluster node dying under the
   * republish), or the hole lay outside what it republished (a later hole, found while an earlier
   * one was replayed). Bounded by ANSWERED_REPLAYS answered replays and UNANSWERED_REPLAYS_MS from
   * the first one that never reached the host.
   */
  next(host: string, from: number, r: HostResult): number | undefined {
    let g = this.endgames.get(host);
    if (!g) this.endgames.set(host, (g = { answered: 0, goneBelow: 0 }));
    const v = (r.value ?? {}) as ReplayValue;
    if (r.state === 'ok') {
      if (typeof v.replayed !== 'number' || ++g.answered >= ANSWERED_REPLAYS) return undefined;
      g.goneBelow = Math.max(g.goneBelow, finite(v.firstAvailable));
    } else if (UNANSWERED.has(r.state)) {
      if (Date.now() - (g.firstUnansweredAt ??= Date.now()) > this.unansweredMs) return undefined;
    } else {
      return undefined; // the host answered with an error (an unknown job): nothing to replay
    }
    const hole = this.hooks.firstMissing(host, g.goneBelow);
    // Nothing kept from where the replay started: a hole from there is gone too.
    if (hole === undefined || (v.replayed === 0 && hole >= republishedFrom(v, from))) return undefined;
    return hole;
  }

  /** Runs `ask` after HOLE_WAIT_MS (the next replay of the endgame), once per host at a time. */
  later(host: string, ask: () => void): void {
    const g = this.endgames.get(host);
    if (!g || g.timer) return;
    g.timer = setTimeout(() => {
      g.timer = undefined;
      if (!this.hooks.settled(host) && !this.replaying.has(host)) ask();
    }, this.holeWaitMs);
    g.timer.unref?.();
  }

  /** A replay to this host is under way (its events may still be arriving). */
  isReplaying(host: string): boolean {
    return this.replaying.has(host);
  }

  /** Asks the host to republish from `from`; resolves once the replayed events had time to arrive. */
  async replay(host: string, from: number): Promise<HostResult> {
    this.replaying.add(host);
    try {
      const r = await this.hooks.replay(host, from);
      let hole = this.holes.get(host);
      if (!hole) this.holes.set(host, (hole = {}));
      if (UNANSWERED.has(r.state) && Date.now() - (hole.firstUnansweredAt ??= Date.now()) <= this.unansweredMs) {
        // The host never saw this replay: it proves nothing about the events, so ask again.
        hole.triedFrom = undefined;
      }
      await new Promise((res) => setTimeout(res, this.graceMs));
      await this.arrival(host, from, r);
      return r;
    } finally {
      this.replaying.delete(host);
    }
  }

  /**
   * Waits while the stream's first missing seq lies inside what the replay said it republished (`replayed`
   * events from `max(from, firstAvailable)`): those events are on their way. Bounded by arrivalMs
   * without progress: while the hole moves on or the host's events keep arriving, a long replay
   * behind a backlog is waited for. A hole below that range is gone for good ([cp-replay-2]) and is
   * not waited for.
   */
  private async arrival(host: string, from: number, r: HostResult): Promise<void> {
    const v = (r.value ?? {}) as ReplayValue;
    if (r.state !== 'ok' || typeof v.replayed !== 'number' || v.replayed === 0) return;
    const start = republishedFrom(v, from);
    const end = start + v.replayed;
    const cap = Date.now() + REPLAY_ARRIVAL_MAX_MS;
    let deadline = Date.now() + this.arrivalMs;
    let last: number | undefined;
    let heard = this.hooks.heard(host);
    while (Date.now() < deadline && !this.hooks.settled(host)) {
      const hole = this.hooks.firstMissing(host, start);
      if (hole === undefined || hole < start || hole >= end) return;
      // Progress: the hole moved, or the host's events still arrive. Replayed events queue behind
      // whatever the agent resends after a failover (seconds of backlog on a loaded NATS cluster).
      const now = this.hooks.heard(host);
      if (hole !== last || now !== heard) deadline = Math.min(cap, Date.now() + this.arrivalMs);
      last = hole;
      heard = now;
      await new Promise((res) => setTimeout(res, 25));
    }
  }

  /**
   * While the host's stream waits on a hole, checks it again after HOLE_WAIT_MS: a hole that is still
   * there gets one replay; one that a replay could not fill is skipped, so the stream never stalls.
   */
  watch(host: string): void {
    if (this.endgames.has(host)) return;
    const from = this.hooks.waitingFor(host);
    let hole = this.holes.get(host);
    if (!hole) this.holes.set(host, (hole = {}));
    if (from === undefined || hole.timer) return;
    const h = hole;
    h.timer = setTimeout(() => {
      h.timer = undefined;
      // Once the terminal is in, the endgame (next, later) alone asks: skipping here would hand the
      // terminal out before events a later replay still brings; the settle flushes in seq order.
      if (this.hooks.settled(host) || this.endgames.has(host)) return;
      if (this.hooks.waitingFor(host) !== from || this.replaying.has(host)) return this.watch(host);
      if (h.triedFrom === from) {
        // One replay could not fill it: the events are gone; move on (the result reports the gap).
        this.hooks.skipHole(host);
        return this.watch(host);
      }
      h.triedFrom = from;
      this.hooks.recover(host, from);
    }, this.holeWaitMs);
    h.timer.unref?.();
  }

  /** The host settled: no more hole checks. */
  stop(host: string): void {
    clearTimeout(this.holes.get(host)?.timer);
    this.holes.delete(host);
    clearTimeout(this.endgames.get(host)?.timer);
    this.endgames.delete(host);
  }
}

/** The first seq a replay republished: from where it was asked, or from the oldest event the host still keeps. */
function republishedFrom(v: ReplayValue, from: number): number {
  return Math.max(finite(v.from ?? from), finite(v.firstAvailable));
}

/** A number the agent sent, or 0 for anything else (the answer is the host's word, not trusted to be sane). */
function finite(n: unknown): number {
  return typeof n === 'number' && Number.isFinite(n) ? n : 0;
}
