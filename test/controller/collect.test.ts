import { describe, expect, it } from 'vitest';
import type { JobEvent } from '../../protocol/index.js';
import { HostStream } from '../../controller/collect.js';

const base = { v: 1 as const, host: 'h', job: 'j', ts: 0 };
const accepted = (seq: number): JobEvent => ({ ...base, seq, type: 'accepted', cmd: 'exec', args: [], kind: 'background', boot: 1 });
const out = (seq: number, data: string, stream: 'stdout' | 'stderr' = 'stdout'): JobEvent => ({ ...base, seq, type: 'output', stream, data });
const result = (seq: number, events: number, code = 0): JobEvent => ({ ...base, seq, type: 'result', code, durationMs: 5, events });

describe('HostStream', () => {
  it('drops a duplicate seq (QoS 1 redelivery) so output is not doubled', () => {
    const s = new HostStream('h');
    expect(s.accept(accepted(0))).toBe(true);
    expect(s.accept(out(1, 'a\n'))).toBe(true);
    expect(s.accept(out(1, 'a\n'))).toBe(false);
    expect(s.accept(result(2, 1))).toBe(true);
    expect(s.complete()).toBe(true);
    expect(s.result().stdout.toString()).toBe('a\n');
    expect(s.result().state).toBe('ok');
  });

  it('firstMissing(from) finds a later hole past an earlier one the host can no longer replay', () => {
    const s = new HostStream('h');
    s.accept(accepted(0));
    for (const seq of [1, 3, 4, 7]) s.accept(out(seq, 'x'));
    expect(s.firstMissing()).toBe(2);
    expect(s.firstMissing(3)).toBe(5);
    s.accept(result(8, 6));
    expect(s.firstMissing(6)).toBe(6);
    for (const seq of [2, 5, 6]) s.accept(out(seq, 'x'));
    expect(s.firstMissing()).toBeUndefined();
  });

  it('a missing seq before the terminal is a gap and asks to replay from the first hole', () => {
    const s = new HostStream('h');
    s.accept(accepted(0));
    s.accept(out(1, 'a'));
    s.accept(out(3, 'c'));
    s.accept(result(4, 3));
    expect(s.complete()).toBe(false);
    expect(s.missing()).toEqual([2]);
    expect(s.replayFrom()).toBe(2);
    // The replayed event fills the hole.
    expect(s.accept(out(2, 'b'))).toBe(true);
    expect(s.complete()).toBe(true);
    expect(s.result().stdout.toString()).toBe('abc');
  });

  it('an unrecoverable hole is reported as a gap in the result, never hidden', () => {
    const s = new HostStream('h');
    s.accept(accepted(0));
    s.accept(out(2, 'c'));
    s.accept(result(3, 2));
    const r = s.result();
    expect(r.gap).toEqual({ droppedEvents: 1, droppedBytes: 0, missingSeqs: [1] });
  });

  it('the first terminal wins: a later lost or second result is ignored', () => {
    const s = new HostStream('h');
    s.accept(accepted(0));
    s.accept(result(1, 0, 2));
    expect(s.accept({ ...base, seq: 7, type: 'lost', code: 1, message: 'agent restarted', boot: 2 })).toBe(false);
    expect(s.result().state).toBe('failed');
    expect(s.result().code).toBe(2);
  });

  it('fewer outputs than the terminal announced is a gap even without a seq hole', () => {
    const s = new HostStream('h');
    s.accept(accepted(0));
    s.accept(out(1, 'a'));
    s.accept(result(2, 3));
    expect(s.complete()).toBe(false);
    expect(s.result().gap?.droppedEvents).toBe(2);
  });

  it('drops reported by the agent (gap event) are counted, not waited for', () => {
    const s = new HostStream('h');
    s.accept(accepted(0));
    s.accept({ ...base, seq: 1, type: 'gap', droppedEvents: 4, droppedBytes: 400, reason: 'spool full' });
    s.accept(out(2, 'z'));
    // [cp-evt-4] `events` counts only the output the agent published, not what the gap reports.
    s.accept(result(3, 1));
    expect(s.complete()).toBe(true);
    expect(s.result().gap).toEqual({ droppedEvents: 4, droppedBytes: 400, missingSeqs: [] });
  });

  it('a gap event does not excuse published output that never arrived', () => {
    const s = new HostStream('h');
    s.accept(accepted(0));
    s.accept({ ...base, seq: 1, type: 'gap', droppedEvents: 4, droppedBytes: 400, reason: 'spool full' });
    s.accept(out(2, 'z'));
    s.accept(result(3, 2));
    expect(s.complete()).toBe(false);
  });

  it('[cp-evt-8] a lost event ends the job even when its seq repeats one already received', () => {
    const s = new HostStream('h');
    s.accept(accepted(0));
    s.accept(out(1, 'a'));
    s.accept(out(2, 'b'));
    expect(s.accept({ ...base, seq: 1, type: 'lost', code: 1, message: 'agent died', boot: 2 })).toBe(true);
    expect(s.result().state).toBe('lost');
    expect(s.accept(result(3, 2))).toBe(false);
  });

  it('maps error codes to states: expired, rejected, error, lost', () => {
    const err = (error: any, code = 1): JobEvent => ({ ...base, seq: 0, type: 'error', code, error, message: 'm' });
    const stateFor = (ev: JobEvent) => {
      const s = new HostStream('h');
      s.accept(ev);
      return s.result().state;
    };
    expect(stateFor(err('EXPIRED'))).toBe('expired');
    expect(stateFor(err('UNKNOWN_COMMAND', -1))).toBe('rejected');
    expect(stateFor(err('BAD_ARGS', -1))).toBe('rejected');
    expect(stateFor(err('PATH'))).toBe('error');
    expect(stateFor({ ...base, seq: 3, type: 'lost', code: 1, message: 'died', boot: 2 })).toBe('lost');
  });

  it('base64 output is decoded to the exact bytes', () => {
    const s = new HostStream('h');
    const bytes = Buffer.from([0, 255, 1, 254]);
    s.accept({ ...base, seq: 0, type: 'output', stream: 'stdout', data: bytes.toString('base64'), enc: 'base64' });
    expect(s.result().stdout.equals(bytes)).toBe(true);
  });

  it('accepted with nothing terminal the host is running (the job goes on there); nothing at all is no-answer', () => {
    const s = new HostStream('h');
    expect(s.result().state).toBe('no-answer');
    s.accept(accepted(0));
    expect(s.result().state).toBe('running');
    expect(s.result().error).toMatchObject({ code: 'RUNNING', message: expect.stringMatching(/accepted/) });
  });
});
