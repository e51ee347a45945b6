// The per-host reorder buffer on its own (pure, no broker): events go out in seq order [cp-evt-1],
// duplicates are dropped, holes hold later events back until filled or skipped, and a `lost` that
// repeats a seq still ends the stream [cp-evt-8].
import { describe, expect, it } from 'vitest';
import type { JobEvent } from '../../protocol/index.js';
import { ReorderBuffer } from '../../controller/reorder.js';

const base = { v: 1 as const, host: 'a', job: 'j1', ts: 0 };
const out = (seq: number, data = `${seq}`): JobEvent => ({ ...base, seq, type: 'output', stream: 'stdout', data });
const result = (seq: number): JobEvent => ({ ...base, seq, type: 'result', code: 0, durationMs: 1, events: seq - 1 });
const lost = (seq: number): JobEvent => ({ ...base, seq, type: 'lost', code: 1, message: 'agent restarted', boot: 2 });
const seqs = (evs: JobEvent[]) => evs.map((e) => `${e.seq}:${e.type}`);

describe('ReorderBuffer', () => {
  it('hands events that arrive in order straight out', () => {
    const b = new ReorderBuffer();
    expect(seqs(b.push(out(0)))).toEqual(['0:output']);
    expect(seqs(b.push(out(1)))).toEqual(['1:output']);
    expect(seqs(b.push(result(2)))).toEqual(['2:result']);
    expect(b.waitingFor).toBeUndefined();
    expect(b.flush()).toEqual([]);
  });

  it('holds events behind a hole and releases them in seq order once it is filled', () => {
    const b = new ReorderBuffer();
    expect(b.push(out(2))).toEqual([]);
    expect(b.push(out(3))).toEqual([]);
    expect(b.waitingFor).toBe(0);
    expect(seqs(b.push(out(0)))).toEqual(['0:output']);
    expect(b.waitingFor).toBe(1);
    expect(seqs(b.push(out(1)))).toEqual(['1:output', '2:output', '3:output']);
    expect(b.waitingFor).toBeUndefined();
  });

  it('drops a seq already handed out or already held', () => {
    const b = new ReorderBuffer();
    b.push(out(0));
    expect(b.push(out(0, 'again'))).toEqual([]);
    b.push(out(2));
    expect(b.push(out(2, 'again'))).toEqual([]);
    const rest = b.push(out(1));
    expect(rest.map((e) => (e.type === 'output' ? e.data : ''))).toEqual(['1', '2']);
  });

  it('skipping a hole moves on to the lowest held seq; an event from the hole that comes later goes out once, late', () => {
    const b = new ReorderBuffer();
    b.push(out(0));
    b.push(out(3));
    b.push(out(4));
    expect(seqs(b.skipHole())).toEqual(['3:output', '4:output']);
    expect(b.waitingFor).toBeUndefined();
    expect(seqs(b.push(out(1)))).toEqual(['1:output']);
    expect(b.push(out(1))).toEqual([]);
    expect(b.push(out(0))).toEqual([]);
    expect(seqs(b.push(out(5)))).toEqual(['5:output']);
  });

  it('skipHole with nothing held is a no-op', () => {
    const b = new ReorderBuffer();
    b.push(out(0));
    expect(b.skipHole()).toEqual([]);
    expect(seqs(b.push(out(1)))).toEqual(['1:output']);
  });

  it('past maxHeld events behind one hole, the hole is skipped instead of holding the stream back without bound', () => {
    const b = new ReorderBuffer(3);
    b.push(out(0));
    expect(b.push(out(2))).toEqual([]);
    expect(b.push(out(3))).toEqual([]);
    expect(b.push(out(4))).toEqual([]);
    expect(seqs(b.push(out(5)))).toEqual(['2:output', '3:output', '4:output', '5:output']);
  });

  it('flush hands out whatever is held, in seq order, holes and all', () => {
    const b = new ReorderBuffer();
    b.push(out(0));
    b.push(result(5));
    b.push(out(3));
    b.push(out(2));
    expect(seqs(b.flush())).toEqual(['2:output', '3:output', '5:result']);
    expect(b.waitingFor).toBeUndefined();
    expect(b.flush()).toEqual([]);
  });

  it('a terminal in order goes out with the rest; one behind a hole waits for it', () => {
    const b = new ReorderBuffer();
    b.push(out(0));
    expect(b.push(result(2))).toEqual([]);
    expect(seqs(b.push(out(1)))).toEqual(['1:output', '2:result']);
  });

  it('a lost that repeats a seq is not a duplicate: it goes out last at flush [cp-evt-8]', () => {
    const b = new ReorderBuffer();
    b.push(out(0));
    b.push(out(1));
    b.push(out(3));
    expect(b.push(lost(1))).toEqual([]);
    expect(seqs(b.flush())).toEqual(['3:output', '1:lost']);
  });

  it('a lost with a fresh seq is ordered like any event', () => {
    const b = new ReorderBuffer();
    b.push(out(0));
    expect(seqs(b.push(lost(1)))).toEqual(['1:lost']);
    expect(b.flush()).toEqual([]);
  });
});
