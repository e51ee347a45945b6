// How a raw job's output becomes frames [cp-frame-3]: at once while its window has room, gathered
// into full frames while it is full, in the order written across streams, flushed before anything
// that must come after it. A pure unit: the window is a flag the test turns.
import { describe, expect, it } from 'vitest';
import { OutputBatch } from '../../agent/jobs/output-batch.js';
import { FRAME_HEADER_BYTES } from '../../protocol/index.js';

function sink(max: number) {
  const out: [string, string][] = [];
  let open = true;
  let waiters: (() => void)[] = [];
  return {
    out,
    set open(v: boolean) {
      open = v;
      if (v) for (const w of waiters.splice(0)) w();
    },
    s: {
      max,
      open: () => open,
      opened: () => (open ? Promise.resolve() : new Promise<void>((r) => waiters.push(r))),
      room: () => (open ? Promise.resolve() : new Promise<void>((r) => waiters.push(r))),
      emit: (stream: string, chunk: Buffer) => out.push([stream, chunk.toString()]),
      // Gathered bytes come with room for the frame header in front, which the frame is written into.
      emitGathered: (stream: string, frame: Buffer) => out.push([stream, frame.subarray(FRAME_HEADER_BYTES).toString()]),
    },
    reset: () => (waiters = []),
  };
}

const running = () => true;

describe('OutputBatch', () => {
  it('[cp-frame-3] sends each write at once while the window has room', async () => {
    const k = sink(8);
    const b = new OutputBatch(k.s);
    await b.add('stdout', Buffer.from('ab'), running);
    await b.add('stdout', Buffer.from('cd'), running);
    expect(k.out).toEqual([
      ['stdout', 'ab'],
      ['stdout', 'cd'],
    ]);
  });

  it('[cp-frame-3] gathers writes into full frames while the window is full, and sends the rest when it opens', async () => {
    const k = sink(8);
    const b = new OutputBatch(k.s);
    k.open = false;
    await b.add('stdout', Buffer.from('abc'), running);
    await b.add('stdout', Buffer.from('def'), running);
    expect(k.out).toEqual([]);
    const third = b.add('stdout', Buffer.from('ghijk'), running); // fills a frame, then waits for room
    expect(k.out).toEqual([['stdout', 'abcdefgh']]);
    k.open = true;
    await third;
    await new Promise((r) => setImmediate(r));
    expect(k.out).toEqual([
      ['stdout', 'abcdefgh'],
      ['stdout', 'ijk'],
    ]);
  });

  it('[cp-frame-3] keeps stdout and stderr in the order written, and flush() empties it', async () => {
    const k = sink(8);
    const b = new OutputBatch(k.s);
    k.open = false;
    await b.add('stdout', Buffer.from('o1'), running);
    await b.add('stderr', Buffer.from('e1'), running);
    await b.add('stdout', Buffer.from('o2'), running);
    b.flush();
    expect(k.out).toEqual([
      ['stdout', 'o1'],
      ['stderr', 'e1'],
      ['stdout', 'o2'],
    ]);
  });

  it('[cp-frame-3] owns what it holds: a chunk refilled by its writer after add() does not change the frame', async () => {
    const k = sink(8);
    const b = new OutputBatch(k.s);
    k.open = false;
    const buf = Buffer.from('aaa');
    await b.add('stdout', buf, running);
    buf.fill('z');
    b.flush();
    expect(k.out).toEqual([['stdout', 'aaa']]);
  });

  it('[cp-frame-3] keeps each stream its own bytes when stdout and stderr are added at once (exec reads both pipes)', async () => {
    const k = sink(100);
    const b = new OutputBatch(k.s);
    k.open = false;
    // stdout fills a frame and waits for room; stderr arrives meanwhile; then the window opens.
    const out = b.add('stdout', Buffer.alloc(150, 'o'), running);
    const err = b.add('stderr', Buffer.alloc(10, 'e'), running);
    k.open = true;
    await Promise.all([out, err]);
    await new Promise((r) => setImmediate(r));
    b.flush();
    const joined = (name: string) => k.out.filter(([s]) => s === name).map(([, d]) => d).join('');
    expect(joined('stdout')).toBe('o'.repeat(150));
    expect(joined('stderr')).toBe('e'.repeat(10));
  });
});
