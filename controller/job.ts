// A job on one or many hosts, from its send to its last result: feeds its events into per-host
// streams (collect.ts) in seq order (reorder.ts), has what is missing replayed (recovery.ts), and
// settles exactly one HostResult per expected host (plus hosts that answered without being
// expected). The fleet owns the MQTT side and hands it a send function; this file owns the rest.
import { EventEmitter } from 'node:events';
import { STALE_AFTER_MISSED, unfold, type JobEvent, type SignatureErrorCode } from '../protocol/index.js';
import { forgedResult, refusedResult, HostStream, offlineResult, withReason, type HostResult } from './collect.js';
import { Recovery } from './recovery.js';
import { ReorderBuffer } from './reorder.js';
import type { JobFollower } from './router.js';
import { longTimer, type LongTimer } from '../timers/long-timer.js';
import { WITHDRAWAL_NOTE, type Withdrawal } from './withdraw.js';

/** The synthetic last event of each host: its settled state (also for hosts that never sent one). */
export interface FinalEvent {
  type: 'final';
  host: string;
  job: string;
  state: HostResult['state'];
  result: HostResult;
}

/** Every item has `host` and `event` (`event.type` tells them apart); finals carry `result` too. */
export type JobItem =
  | { kind: 'event'; host: string; event: JobEvent }
  | { kind: 'final'; host: string; event: FinalEvent; result: HostResult };

/** What a job needs from the fleet around it. */
export interface JobOwner {
  /** Sends `replay <job> <fromSeq>` to one host; resolves when that command ended (ok or not). */
  replay(host: string, job: string, fromSeq: number): Promise<HostResult>;
  /** Sends a control command (kill, send_input) about this job to one host. */
  control(host: string, cmd: string, args: unknown[]): Promise<HostResult>;
  /** Called once when every host has settled: unsubscribe and forget the job. */
  release(job: JobHandle): void;
}

export interface JobSetup {
  id: string;
  cmd: string;
  expected: string[];
  offline: string[];
  unknown: string[];
  /** Offline hosts that presence says are online but whose heartbeats stopped. */
  stale?: string[];
  noMatch: boolean;
  /** No deadline when undefined: wait for every host for as long as it takes. */
  waitMs?: number;
  /** After a replay ends, how long to wait for replayed events still in flight. */
  replayGraceMs?: number;
  /** How long to wait without progress for the events a replay said it republished (REPLAY_ARRIVAL_MS). */
  replayArrivalMs?: number;
  keepOutput?: boolean;
  /** attach: a failed initial replay with nothing heard settles the host (the job is unknown there). */
  attach?: boolean;
}

export class JobHandle
  extends EventEmitter<{ event: [JobItem & { kind: 'event' }]; final: [JobItem & { kind: 'final' }]; done: [HostResult[]] }>
  implements AsyncIterable<JobItem>, JobFollower
{
  readonly id: string;
  readonly cmd: string;
  /** Hosts an answer is expected from, resolved from presence when the job started. */
  readonly expected: readonly string[];
  /** Named hosts presence never saw (they are expected and reported offline). */
  readonly unknown: readonly string[];
  /** The target matched no known host: nothing was sent and done() resolves to []. */
  readonly noMatch: boolean;

  private readonly streams = new Map<string, HostStream>();
  private readonly finals = new Map<string, HostResult>();
  /** Hosts expected or heard from that have no final result yet: done when it is empty. */
  private readonly unsettled: Set<string>;
  /** Per host: events handed out in seq order. */
  private readonly order = new Map<string, ReorderBuffer>();
  private readonly recovery: Recovery;
  private readonly queue: JobItem[] = [];
  private recording = false;
  private wake?: () => void;
  private timer?: LongTimer;
  private begun = false;
  private settled = false;
  private sent: Promise<void> = Promise.resolve();
  private readonly donePromise: Promise<HostResult[]>;
  private resolveDone!: (r: HostResult[]) => void;

  /** A job whose target matched nothing is finished at once: nothing is sent, done() resolves to []. */
  constructor(private readonly owner: JobOwner, private readonly setup: JobSetup) {
    super();
    this.id = setup.id;
    this.cmd = setup.cmd;
    this.expected = setup.expected;
    this.unsettled = new Set(setup.expected);
    this.unknown = setup.unknown;
    this.noMatch = setup.noMatch;
    this.donePromise = new Promise((r) => (this.resolveDone = r));
    this.recovery = new Recovery(
      {
        replay: (host, from) => this.owner.replay(host, this.id, from),
        waitingFor: (host) => this.order.get(host)?.waitingFor,
        firstMissing: (host, from) => this.streams.get(host)?.firstMissing(from),
        heard: (host) => this.streams.get(host)?.received ?? 0,
        skipHole: (host) => this.deliver(host, this.buffer(host).skipHole()),
        recover: (host, from) => void this.recover(host, from),
        settled: (host) => this.settled || this.finals.has(host),
      },
      setup.replayGraceMs,
      undefined,
      setup.replayArrivalMs,
    );
    if (setup.noMatch) this.begin();
  }

  /** Resolves once the command is published (after the job subscription is acknowledged). */
  get started(): Promise<void> {
    return this.sent;
  }

  /**
   * Sends the job (`send` makes the subscription and publishes) and arms it once sent, or once
   * sending failed, so done() never waits on a send that will not happen. mqtt.js queues a subscribe
   * while the broker is unreachable: the wait counts from now, not from the SUBACK. When the wait
   * ends first, `withdraw` takes the command back from mqtt.js, so that what is reported as not sent
   * is not delivered later, and says whether a copy may have reached the broker all the same. An
   * attached job then fetches its whole stream from seq 0.
   */
  launch(send: () => Promise<unknown>, what: string, withdraw?: () => Withdrawal): Promise<void> {
    const waitMs = this.setup.waitMs;
    const giveUp = () => {
      const verdict = withdraw?.();
      this.unsent(`${what} within ${waitMs} ms (broker unreachable)${verdict ? WITHDRAWAL_NOTE[verdict] : ''}`);
    };
    const guard = waitMs === undefined ? undefined : longTimer(giveUp, waitMs, { unref: true });
    this.sent = send().then(() => {
      this.begin();
      if (this.setup.attach) for (const h of this.expected) void this.recover(h, 0, true);
    });
    this.sent.then(
      () => guard?.clear(),
      () => {
        guard?.clear();
        this.begin();
      },
    );
    return this.sent;
  }

  /** Arms the job: settles offline hosts and starts the deadline. launch() calls it once sent. */
  begin(): void {
    if (this.begun) return;
    this.begun = true;
    for (const h of this.setup.offline) {
      // Only a host that has a session on the broker gets the command queued; a name never seen
      // in presence most likely never connected, so nothing waits for it.
      const message = this.setup.unknown.includes(h)
        ? `${h} has never been seen (no presence on the broker); the command is not queued for it`
        : this.setup.stale?.includes(h)
          ? `${h} is stale (no heartbeat for ${STALE_AFTER_MISSED} intervals: its broker node may have died); the command was sent and may still run there, unobserved`
          : `${h} is offline; the command stays queued for it until its TTL`;
      this.settle(h, offlineResult(h, message));
    }
    if (this.setup.waitMs !== undefined) {
      this.timer = longTimer(() => this.expire(), this.setup.waitMs, { unref: true });
    }
    this.maybeDone();
  }

  /**
   * The command could not be handed to the broker within the wait (broker unreachable): settle every
   * host now, saying so, instead of letting done() wait on a subscription that may never complete.
   */
  private unsent(why: string): void {
    this.begin();
    this.expire(why);
  }

  /** Feeds one decoded event from `conplyent/<host>/job/<id>`. */
  onEvent(host: string, ev: JobEvent): void {
    if (this.settled || this.finals.has(host)) return;
    let s = this.streams.get(host);
    if (!s) {
      this.streams.set(host, (s = new HostStream(host, this.setup.keepOutput ?? true)));
      this.unsettled.add(host);
    }
    if (!s.accept(ev)) return;
    // A live event that overtakes a replayed one (attach, a reconnect) waits for it.
    this.deliver(host, this.buffer(host).push(ev));
    this.check(host, s);
  }

  /**
   * A terminal event that does not verify against the host's pinned key [cp-sig-8]. The host is
   * settled as forged at once rather than waiting on: someone who can publish on its job topic is
   * writing answers in its name, which the operator must hear about even if the real one follows.
   */
  forged(host: string, why: string): void {
    if (this.settled || this.finals.has(host)) return;
    this.settle(host, forgedResult(this.streams.get(host), host, why));
  }

  /**
   * The host refused the signature [cp-sig-5]. Notices are not signed, so one is believed only
   * before the host accepted the job: a forged notice can then end the wait early, never turn a
   * job the host is running into a refusal, and never into a success.
   */
  refused(host: string, code: SignatureErrorCode, message: string): void {
    if (this.settled || this.finals.has(host) || this.streams.get(host)?.accepted) return;
    this.settle(host, refusedResult(host, code, message));
  }

  private buffer(host: string): ReorderBuffer {
    let b = this.order.get(host);
    if (!b) this.order.set(host, (b = new ReorderBuffer()));
    return b;
  }

  /** Hands out events that are due; a hole left behind is watched (and replayed if it stays). */
  private deliver(host: string, events: JobEvent[]): void {
    // A folded terminal is handed out as the `accepted` and the terminal it stands for [cp-fold-3].
    for (const event of events.flatMap(unfold)) this.push({ kind: 'event', host, event });
    this.recovery.watch(host);
  }

  private check(host: string, s: HostStream): void {
    if (s.complete()) return this.settle(host, s.result());
    // A `lost` comes from a restarted agent whose job died: nothing more will come [cp-evt-8].
    if (s.terminal?.type === 'lost') return this.settle(host, s.result());
    if (s.terminal && !this.recovery.isReplaying(host)) void this.recover(host, s.replayFrom());
  }

  /** Asks the host to republish from `from`; settles with a gap when the hole is still there. */
  private async recover(host: string, from: number, initial = false, why?: string): Promise<void> {
    const r = await this.recovery.replay(host, from);
    if (this.settled || this.finals.has(host)) return;
    this.recovery.watch(host);
    const s = this.streams.get(host);
    if ((this.setup.attach || why) && initial && r.state !== 'ok' && (!s || !s.accepted)) {
      const message = `${why ? `${why}; ` : ''}${r.error?.message ?? `replay of ${this.id} on ${host} failed (${r.state})`}`;
      return this.settle(host, { ...r, host, error: { code: r.error?.code ?? 'UNKNOWN_JOB', message } });
    }
    if (!s?.terminal) return;
    // The terminal is in and something is still missing: ask again while a replay can still fill it
    // (recovery.next says when), else report the hole rather than wait forever [cp-evt-7].
    const next = this.recovery.next(host, from, r);
    if (next === undefined) return this.settle(host, s.result());
    this.recovery.later(host, () => void this.recover(host, next));
  }

  /**
   * The host answered `duplicate`: it had already received this id and will not run it again
   * [cp-dedupe-1]. Its first run's events stand, so fetch them; when nothing of that run is kept,
   * settle the host with why, instead of waiting for events that will never come. A duplicate of a
   * QoS 1 redelivery arrives beside the live run's events: then there is nothing to do.
   */
  duplicate(host: string): void {
    if (this.settled || this.finals.has(host) || this.recovery.isReplaying(host) || this.streams.get(host)?.accepted) return;
    void this.recover(host, 0, true, `${host} had already received job id ${this.id} and did not run it again`);
  }

  /** After the controller reconnected: ask every unsettled host for what we may have missed. */
  resume(): void {
    if (this.settled) return;
    const hosts = new Set([...this.expected, ...this.streams.keys()]);
    for (const h of hosts) {
      if (this.finals.has(h) || this.recovery.isReplaying(h)) continue;
      void this.recover(h, this.streams.get(h)?.replayFrom() ?? 0);
    }
  }

  private settle(host: string, result: HostResult): void {
    if (this.finals.has(host)) return;
    // Whatever is still held goes out in seq order, holes and all (the result reports the gap).
    this.recovery.stop(host);
    for (const event of (this.order.get(host)?.flush() ?? []).flatMap(unfold)) this.push({ kind: 'event', host, event });
    this.finals.set(host, result);
    this.unsettled.delete(host);
    this.push({ kind: 'final', host, event: { type: 'final', host, job: this.id, state: result.state, result }, result });
    this.maybeDone();
  }

  /** The fleet is closing: settle every host now with what arrived (no-answer where nothing did). */
  abandon(): void {
    this.expire('the controller closed before it had a result');
  }

  private expire(why?: string): void {
    for (const h of new Set([...this.expected, ...this.streams.keys()])) {
      if (this.finals.has(h)) continue;
      const r = (this.streams.get(h) ?? new HostStream(h)).result();
      this.settle(h, why ? withReason(r, why) : r);
    }
  }

  private maybeDone(): void {
    // A count, not a scan of every host per result: that was quadratic in a 1,000-host broadcast.
    if (this.settled || this.unsettled.size > 0) return;
    this.settled = true;
    this.timer?.clear();
    const results = [...this.finals.values()];
    this.owner.release(this);
    this.resolveDone(results);
    this.emit('done', results);
    this.wake?.();
  }

  /** One result per expected host, plus hosts that answered without being expected. */
  done(): Promise<HostResult[]> {
    return this.donePromise;
  }

  /** Kills the job on one host or on every host that has not finished. */
  kill(host?: string): Promise<HostResult[]> {
    return Promise.all(this.activeHosts(host).map((h) => this.owner.control(h, 'kill', [this.id])));
  }

  /** Writes text to the job's stdin on one host or on every host that has not finished. */
  input(text: string, host?: string): Promise<HostResult[]> {
    return Promise.all(this.activeHosts(host).map((h) => this.owner.control(h, 'send_input', [this.id, text])));
  }

  private activeHosts(host?: string): string[] {
    if (host !== undefined) return [host];
    return [...new Set([...this.expected, ...this.streams.keys()])].filter((h) => !this.finals.has(h));
  }

  /** Whether every host has settled. */
  get finished(): boolean {
    return this.settled;
  }

  private push(item: JobItem): void {
    if (item.kind === 'event') this.emit('event', item);
    else this.emit('final', item);
    if (this.recording) {
      this.queue.push(item);
      this.wake?.();
    }
  }

  /**
   * Events in arrival order, then one `final` item per host. Recording starts when iteration
   * starts; events only arrive after the job's SUBACK, so iterating right after run() misses nothing.
   */
  async *[Symbol.asyncIterator](): AsyncIterator<JobItem> {
    this.recording = true;
    for (;;) {
      while (this.queue.length > 0) yield this.queue.shift()!;
      if (this.settled) return;
      await new Promise<void>((r) => (this.wake = r));
      this.wake = undefined;
    }
  }
}
