// One host's events of one job, handed out in seq order [cp-evt-1] whatever order the broker, a
// replay or a redelivery brings them in. Pure: no timers, no I/O. When to give up on a hole is the
// job's decision (recovery.ts asks the host to replay it first).
import type { JobEvent } from '../protocol/index.js';

/** Most events held back behind one hole before the stream moves on without it. */
export const MAX_HELD_EVENTS = 1024;

export class ReorderBuffer {
  private next = 0;
  private readonly held = new Map<number, JobEvent>();
  /** Seq ranges [from, to) passed over by skipHole(): an event from one arrives late, not twice. */
  private readonly skipped: { from: number; to: number }[] = [];
  private readonly lateSeqs = new Set<number>();
  /** A `lost` whose seq is already taken: it still ends the job, so it goes out last. */
  private lateTerminal?: JobEvent;

  constructor(private readonly maxHeld = MAX_HELD_EVENTS) {}

  /**
   * Takes one event and returns the events now due, in seq order. A seq already handed out or held
   * is a duplicate and dropped; an event from a skipped hole is handed out at once, late.
   */
  push(ev: JobEvent): JobEvent[] {
    if (ev.seq >= this.next && !this.held.has(ev.seq)) {
      this.held.set(ev.seq, ev);
      // A hole must not hold a long stream back without bound: skip it (the result reports the gap).
      return this.held.size > this.maxHeld ? this.skipHole() : this.due();
    }
    if (ev.seq < this.next && !this.lateSeqs.has(ev.seq) && this.skipped.some((r) => ev.seq >= r.from && ev.seq < r.to)) {
      this.lateSeqs.add(ev.seq);
      return [ev];
    }
    // A restarted agent cannot know the job's last seq, so its `lost` may repeat one; it is still
    // the job's terminal event [cp-evt-8].
    if (ev.type === 'lost') this.lateTerminal ??= ev;
    return [];
  }

  /** The seq the stream waits for while later events are held back; undefined when none are. */
  get waitingFor(): number | undefined {
    return this.held.size > 0 ? this.next : undefined;
  }

  /** Gives up on the current hole: moves on to the lowest held seq and returns what is now due. */
  skipHole(): JobEvent[] {
    if (this.held.size === 0) return [];
    const to = Math.min(...this.held.keys());
    this.skipped.push({ from: this.next, to });
    this.next = to;
    return this.due();
  }

  /** At the end: everything still held in seq order, holes and all, then a late terminal. */
  flush(): JobEvent[] {
    const out = [...this.held.keys()].sort((a, b) => a - b).map((seq) => this.held.get(seq)!);
    this.held.clear();
    if (this.lateTerminal) out.push(this.lateTerminal);
    this.lateTerminal = undefined;
    return out;
  }

  private due(): JobEvent[] {
    const out: JobEvent[] = [];
    while (this.held.has(this.next)) {
      out.push(this.held.get(this.next)!);
      this.held.delete(this.next++);
    }
    return out;
  }
}
