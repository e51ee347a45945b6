// A command the controller sends on a job's behalf (`replay`): one host, one answer. It streams
// nothing and recovers nothing; its terminal event, or the wait running out, is all the asker needs.
// A JobHandle would also follow holes and reconnects, which a one-shot question has no use for.
import type { JobEvent, SignatureErrorCode } from '../protocol/index.js';
import { forgedResult, refusedResult, HostStream, offlineResult, withReason, type HostResult } from './collect.js';
import { longTimer, type LongTimer } from '../timers/long-timer.js';

export class ControlRequest {
  readonly done: Promise<HostResult>;
  private readonly stream: HostStream;
  private readonly deadline: LongTimer;
  private settled = false;
  private resolve!: (r: HostResult) => void;

  /** `onSettled` runs once, with the answer: the fleet unsubscribes and forgets the request. */
  constructor(readonly id: string, readonly host: string, waitMs: number, private readonly onSettled: (req: ControlRequest) => void) {
    this.stream = new HostStream(host, false);
    this.done = new Promise((r) => (this.resolve = r));
    this.deadline = longTimer(() => this.settle(this.stream.result()), waitMs, { unref: true });
  }

  /** An event on `conplyent/<host>/job/<id>`: the first terminal is the answer. */
  onEvent(host: string, ev: JobEvent): void {
    if (host !== this.host || !this.stream.accept(ev)) return;
    if (this.stream.terminal) this.settle(this.stream.result());
  }

  /** A forged terminal event [cp-sig-8]: the answer is that someone else wrote it. */
  forged(host: string, why: string): void {
    if (host === this.host) this.settle(forgedResult(this.stream, host, why));
  }

  /** The host refused the signature [cp-sig-5]; believed only before it accepted (notices are unsigned). */
  refused(host: string, code: SignatureErrorCode, message: string): void {
    if (host === this.host && !this.stream.accepted) this.settle(refusedResult(host, code, message));
  }

  /** The host is offline: the command stays queued for it, and the asker is told so now. */
  offline(): void {
    this.settle(offlineResult(this.host, `${this.host} is offline; the command stays queued for it until its TTL`));
  }

  /** The fleet is closing, or the command could not be sent: answer with what arrived. */
  abandon(why: string): void {
    this.settle(withReason(this.stream.result(), why));
  }

  private settle(r: HostResult): void {
    if (this.settled) return;
    this.settled = true;
    this.deadline.clear();
    this.onSettled(this);
    this.resolve(r);
  }
}
