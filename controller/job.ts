// A job on one or many hosts: routes its events into per-host streams, asks for replays when seqs
// are missing, and settles exactly one HostResult per expected host (plus hosts that answered
// without being expected). The fleet owns the MQTT side; this file owns the bookkeeping.
import { EventEmitter } from 'node:events';
import type { JobEvent } from '../protocol/index.js';
import { HostStream, offlineResult, type HostResult } from './collect.js';
import { longTimer, type LongTimer } from '../timers/long-timer.js';

/** How long a seq hole may stay open mid-stream before the host is asked to replay from it. */
const HOLE_WAIT_MS = 500;
/** Most events held back behind one hole before the stream moves on without it. */
const MAX_HELD_EVENTS = 1024;

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
  noMatch: boolean;
  /** No deadline when undefined: wait for every host for as long as it takes. */
  waitMs?: number;
  /** After a replay ends, how long to wait for replayed events still in flight. */
  replayGraceMs?: number;
  keepOutput?: boolean;
  /** attach: a failed initial replay with nothing heard settles the host (the job is unknown there). */
  attach?: boolean;
}

export class JobHandle extends EventEmitter<{ event: [JobItem & { kind: 'event' }]; final: [JobItem & { kind: 'final' }]; done: [HostResult[]] }> implements AsyncIterable<JobItem> {
  readonly id: string;
  readonly cmd: string;
  /** Hosts an answer is expected from, resolved from presence when the job started. */
  readonly expected: readonly string[];
  /** Named hosts presence never saw (they are expected and reported offline). */
  readonly unknown: readonly string[];
  /** The target matched no known host: nothing was sent and done() resolves to []. */
  readonly noMatch: boolean;
  /** Resolves once the command is published (after the job subscription is acknowledged). */
  started: Promise<void> = Promise.resolve();

  private readonly streams = new Map<string, HostStream>();
  private readonly finals = new Map<string, HostResult>();
  private readonly replaying = new Set<string>();
  /** Per host: the next seq to hand out, and events that arrived ahead of it. */
  private readonly order = new Map<string, { next: number; held: Map<number, JobEvent>; timer?: NodeJS.Timeout; triedFrom?: number }>();
  private readonly queue: JobItem[] = [];
  private recording = false;
  private wake?: () => void;
  private timer?: LongTimer;
  private settled = false;
  private readonly donePromise: Promise<HostResult[]>;
  private resolveDone!: (r: HostResult[]) => void;

  constructor(private readonly owner: JobOwner, private readonly setup: JobSetup) {
    super();
    this.id = setup.id;
    this.cmd = setup.cmd;
    this.expected = setup.expected;
    this.unknown = setup.unknown;
    this.noMatch = setup.noMatch;
    this.donePromise = new Promise((r) => (this.resolveDone = r));
  }

  /** Called by the fleet after publishing: settles offline hosts and arms the deadline. */
  begin(): void {
    if (this.begun) return;
    this.begun = true;
    for (const h of this.setup.offline) {
      // Only a host that has a session on the broker gets the command queued; a name never seen
      // in presence most likely never connected, so nothing waits for it.
      const message = this.setup.unknown.includes(h)
        ? `${h} has never been seen (no presence on the broker); the command is not queued for it`
        : `${h} is offline; the command stays queued for it until its TTL`;
      this.settle(h, offlineResult(h, message));
    }
    if (this.setup.waitMs !== undefined) {
      this.timer = longTimer(() => this.expire(), this.setup.waitMs, { unref: true });
    }
    this.maybeDone();
  }

  private begun = false;

  /**
   * The command could not be handed to the broker within the wait (broker unreachable): settle every
   * host now, saying so, instead of letting done() wait on a subscription that may never complete.
   */
  unsent(why: string): void {
    this.begin();
    this.expire(why);
  }

  /** Feeds one decoded event from `conplyent/<host>/job/<id>`. */
  onEvent(host: string, ev: JobEvent): void {
    if (this.settled || this.finals.has(host)) return;
    let s = this.streams.get(host);
    if (!s) this.streams.set(host, (s = new HostStream(host, this.setup.keepOutput ?? true)));
    if (!s.accept(ev)) return;
    this.deliver(host, ev);
    this.check(host, s);
  }

  /**
   * Hands events out in seq order per host: a live event that overtakes a replayed one (attach, a
   * reconnect) waits for it. A hole that stays open asks for a replay rather than stall the stream.
   */
  private deliver(host: string, ev: JobEvent): void {
    let o = this.order.get(host);
    if (!o) this.order.set(host, (o = { next: 0, held: new Map() }));
    o.held.set(ev.seq, ev);
    // A hole must not hold a long stream back without bound: skip it (the result reports the gap).
    if (o.held.size > MAX_HELD_EVENTS) o.next = Math.min(...o.held.keys());
    this.drain(host);
  }

  private drain(host: string): void {
    const o = this.order.get(host);
    if (!o) return;
    while (o.held.has(o.next)) {
      this.push({ kind: 'event', host, event: o.held.get(o.next)! });
      o.held.delete(o.next++);
    }
    if (o.held.size === 0 || o.timer) return;
    const from = o.next;
    o.timer = setTimeout(() => {
      o.timer = undefined;
      if (o.next !== from || o.held.size === 0 || this.finals.has(host)) return;
      if (this.replaying.has(host)) return this.drain(host);
      if (o.triedFrom === from) {
        // One replay could not fill it: the events are gone; move on (the result reports the gap).
        o.next = Math.min(...o.held.keys());
        return this.drain(host);
      }
      o.triedFrom = from;
      void this.recover(host, from);
    }, HOLE_WAIT_MS);
    o.timer.unref?.();
  }

  /** At settle time whatever is still held goes out in seq order, holes and all (the result reports the gap). */
  private flushHeld(host: string): void {
    const o = this.order.get(host);
    if (!o) return;
    clearTimeout(o.timer);
    for (const seq of [...o.held.keys()].sort((a, b) => a - b)) this.push({ kind: 'event', host, event: o.held.get(seq)! });
    o.held.clear();
  }

  private check(host: string, s: HostStream): void {
    if (s.complete()) return this.settle(host, s.result());
    // A `lost` comes from a restarted agent whose job died: nothing more will come [cp-evt-8].
    if (s.terminal?.type === 'lost') return this.settle(host, s.result());
    if (s.terminal && !this.replaying.has(host)) void this.recover(host, s.replayFrom());
  }

  /** Asks the host to republish from `from`; settles with a gap when the hole is still there. */
  private async recover(host: string, from: number, initial = false, why?: string): Promise<void> {
    this.replaying.add(host);
    const r = await this.owner.replay(host, this.id, from);
    await new Promise((res) => setTimeout(res, this.setup.replayGraceMs ?? 250));
    this.replaying.delete(host);
    if (this.settled || this.finals.has(host)) return;
    this.drain(host);
    const s = this.streams.get(host);
    if ((this.setup.attach || why) && initial && r.state !== 'ok' && (!s || !s.accepted)) {
      const message = `${why ? `${why}; ` : ''}${r.error?.message ?? `replay of ${this.id} on ${host} failed (${r.state})`}`;
      return this.settle(host, { ...r, host, error: { code: r.error?.code ?? 'UNKNOWN_JOB', message } });
    }
    // Unrecoverable: report the hole rather than wait forever [cp-evt-7].
    if (s?.terminal) this.settle(host, s.result());
  }

  /**
   * The host answered `duplicate`: it had already received this id and will not run it again
   * [cp-dedupe-1]. Its first run's events stand, so fetch them; when nothing of that run is kept,
   * settle the host with why, instead of waiting for events that will never come. A duplicate of a
   * QoS 1 redelivery arrives beside the live run's events: then there is nothing to do.
   */
  duplicate(host: string): void {
    if (this.settled || this.finals.has(host) || this.replaying.has(host) || this.streams.get(host)?.accepted) return;
    void this.recover(host, 0, true, `${host} had already received job id ${this.id} and did not run it again`);
  }

  /** After the controller reconnected: ask every unsettled host for what we may have missed. */
  resume(): void {
    if (this.settled) return;
    const hosts = new Set([...this.expected, ...this.streams.keys()]);
    for (const h of hosts) {
      if (this.finals.has(h) || this.replaying.has(h)) continue;
      void this.recover(h, this.streams.get(h)?.replayFrom() ?? 0);
    }
  }

  /** attach: fetch the whole stream of a job someone else started. */
  replayAll(host: string): void {
    void this.recover(host, 0, true);
  }

  private settle(host: string, result: HostResult): void {
    if (this.finals.has(host)) return;
    this.flushHeld(host);
    this.finals.set(host, result);
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
      this.settle(h, why && r.state === 'no-answer' ? { ...r, error: { code: 'NO_ANSWER', message: `${h}: ${why}` } } : r);
    }
  }

  private maybeDone(): void {
    if (this.settled) return;
    for (const h of this.expected) if (!this.finals.has(h)) return;
    for (const h of this.streams.keys()) if (!this.finals.has(h)) return;
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
