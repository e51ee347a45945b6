// The outbox driven directly: a publish function we acknowledge by hand (the Outbox's transport is
// an injected dependency; nothing of MQTT is imitated) and a temp dir for the disk spool. Pins the
// publish window, ack order, the spool bound and its one gap event, replay, and retention.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Outbox, type OutboxLimits, type OutboxListeners } from '../../agent/outbound/outbox.js';
import { ErrorCodes, type JobEventBody } from '../../protocol/index.js';

interface Published {
  topic: string;
  ev: { seq: number; type: string; [k: string]: unknown };
  ack(): void;
}

const root = mkdtempSync(join(tmpdir(), 'cp-outbox-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;

const LIMITS: OutboxLimits = { windowSize: 4, spoolMemoryBytes: 1 << 20, spoolDiskBytes: 1 << 20, replayBytes: 1 << 20, replayRetentionMs: 60_000, replayJobs: 100 };

/** An outbox whose publishes wait for ack() (or are acknowledged at once with autoAck). */
function rig(limits: Partial<OutboxLimits> = {}, listeners: OutboxListeners = {}) {
  const published: Published[] = [];
  const link = { up: true, autoAck: false };
  const dir = join(root, `d${dirs++}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const outbox = new Outbox(
    {
      connected: () => link.up,
      publish: (topic, payload) =>
        new Promise<void>((resolve) => {
          published.push({ topic, ev: JSON.parse(payload.toString()), ack: resolve });
          if (link.autoAck) resolve();
        }),
    },
    { ...LIMITS, ...limits },
    dir,
    listeners,
  );
  const acked = new Set<Published>();
  /** Acknowledges every publish made so far, in order, and lets the acks run. */
  const ackAll = async () => {
    for (let i = 0; i < 1_000 && published.some((p) => !acked.has(p)); i++) {
      for (const p of published) if (!acked.has(p)) (acked.add(p), p.ack());
      await new Promise((r) => setImmediate(r));
    }
  };
  return { outbox, published, link, dir, ackAll };
}

const out = (n: number, size = 100): JobEventBody => ({ type: 'output', stream: 'stdout', data: String(n).padEnd(size, '.') });
const result = (events = 0): JobEventBody => ({ type: 'result', code: 0, durationMs: 0, events });
const seqs = (ps: Published[]) => ps.map((p) => p.ev.seq);

describe('outbox', () => {
  it('[cp-spool-1] hands at most windowSize events of a job to the transport, in seq order, and makes the producer wait for room', async () => {
    const { outbox, published } = rig();
    const log = outbox.open('h', 'w1');
    for (let i = 0; i < 10; i++) log.append(out(i));
    expect(seqs(published)).toEqual([0, 1, 2, 3]);
    expect(published[0].topic).toBe('conplyent/h/job/w1');
    let room = false;
    void log.room().then(() => (room = true));
    published[0].ack();
    await new Promise((r) => setImmediate(r));
    expect(seqs(published)).toEqual([0, 1, 2, 3, 4]); // one ack, one more in flight
    expect(room).toBe(false);
    // Room comes back once fewer than windowSize events are unacknowledged: 10 appended, 7 acked.
    let acks = 1;
    while (!room && acks < 10) {
      published[acks++].ack();
      await new Promise((r) => setImmediate(r));
    }
    expect(acks).toBe(7);
  });

  it('[cp-spool-1] a producer waiting for room is released when the link goes down: the spool takes its output', async () => {
    const { outbox, link } = rig();
    const log = outbox.open('h', 'w2');
    for (let i = 0; i < 8; i++) log.append(out(i));
    let room = false;
    void log.room().then(() => (room = true));
    await new Promise((r) => setImmediate(r));
    expect(room).toBe(false);
    link.up = false;
    outbox.wakeAll();
    await new Promise((r) => setImmediate(r));
    expect(room).toBe(true);
  });

  it('[cp-evt-1] publishes every event of a job exactly once, in seq order, and is settled when the last is acknowledged', async () => {
    const ended: string[] = [];
    const { outbox, published, ackAll } = rig({}, { onTerminalAcked: (j) => ended.push(j) });
    const log = outbox.open('h', 'o1');
    for (let i = 0; i < 20; i++) log.append(out(i));
    log.append(result(20));
    expect(log.append(out(99))).toBe(false); // nothing after the terminal event
    expect(ended).toEqual([]);
    await ackAll();
    expect(seqs(published)).toEqual([...Array(21).keys()]);
    expect(published.at(-1)!.ev.type).toBe('result');
    expect(log.settled).toBe(true);
    expect(ended).toEqual(['o1']);
    await outbox.drain(1_000);
  });

  it('[cp-evt-7] [cp-spool-2] past the spool bound while offline: events are dropped, then exactly one gap with their counts precedes the next kept event', async () => {
    const { outbox, published, link, dir, ackAll } = rig({ spoolMemoryBytes: 1_000, spoolDiskBytes: 1_000 });
    const log = outbox.open('h', 'g1');
    link.up = false;
    let kept = 0;
    let dropped = 0;
    for (let i = 0; i < 40; i++) (log.append(out(i)) ? kept++ : dropped++);
    expect(kept).toBeGreaterThan(4); // memory, then disk
    expect(dropped).toBeGreaterThan(0);
    expect(existsSync(join(dir, 'g1.spool'))).toBe(true);
    expect(log.append(result(kept))).toBe(true); // a terminal event is never dropped, however full
    link.up = true;
    outbox.pumpAll();
    await ackAll();
    const evs = published.map((p) => p.ev);
    expect(evs.map((e) => e.seq)).toEqual([...Array(kept + 2).keys()]); // no hole in the seqs
    const gaps = evs.filter((e) => e.type === 'gap');
    expect(gaps).toHaveLength(1);
    expect(gaps[0]).toMatchObject({ droppedEvents: dropped });
    expect(gaps[0].droppedBytes as number).toBeGreaterThan(dropped * 100);
    expect(evs.findIndex((e) => e.type === 'gap')).toBe(kept); // right where the hole is
    expect(evs.at(-1)!.type).toBe('result');
  });

  it('[cp-evt-7] drops counted across an outage and after it all go into one gap, placed before the first event kept', async () => {
    const { outbox, published, link, ackAll } = rig({ spoolMemoryBytes: 500, spoolDiskBytes: 0 });
    const log = outbox.open('h', 'g2');
    link.up = false;
    const results = Array.from({ length: 10 }, (_, i) => log.append(out(i)));
    const dropped = results.filter((r) => !r).length;
    expect(dropped).toBeGreaterThan(0);
    link.up = true;
    outbox.pumpAll();
    await ackAll(); // the spool is empty again: the next event and its gap fit
    expect(log.append(out(100))).toBe(true);
    await ackAll();
    expect(log.append(out(101))).toBe(true); // the hole is accounted for: no second gap
    await ackAll();
    const evs = published.map((p) => p.ev);
    expect(evs.filter((e) => e.type === 'gap')).toHaveLength(1);
    const gap = evs.find((e) => e.type === 'gap')!;
    expect(gap).toMatchObject({ droppedEvents: dropped });
    expect(evs[evs.indexOf(gap) + 1]).toMatchObject(out(100));
  });

  it('[cp-replay-1] replays a job\'s kept events from a seq, from memory and from the disk spool alike', async () => {
    const { outbox, published, link, ackAll } = rig({ spoolMemoryBytes: 600 });
    const log = outbox.open('h', 'r1');
    link.up = false;
    for (let i = 0; i < 10; i++) log.append(out(i));
    log.append(result(10));
    link.up = true;
    outbox.pumpAll();
    await ackAll();
    const first = published.map((p) => JSON.stringify(p.ev));
    published.length = 0;
    link.autoAck = true;
    expect(await outbox.replay(log, 4)).toEqual({ replayed: 7, firstAvailable: 0 });
    expect(published.map((p) => JSON.stringify(p.ev))).toEqual(first.slice(4));
    expect(await outbox.replay(log, 50)).toEqual({ replayed: 0, firstAvailable: 0 });
  });

  it('[cp-replay-2] over the replay byte bound, the oldest acknowledged events go first and replay says what is left', async () => {
    const { outbox, ackAll } = rig({ replayBytes: 1_000 });
    const log = outbox.open('h', 'r2');
    for (let i = 0; i < 20; i++) log.append(out(i));
    log.append(result(20));
    await ackAll();
    expect(log.firstSeq).toBeGreaterThan(0);
    const { firstAvailable, replayed } = await (async () => {
      const p = outbox.replay(log, 0);
      await ackAll();
      return p;
    })();
    expect(firstAvailable).toBe(log.firstSeq);
    expect(replayed).toBe(21 - firstAvailable);
  });

  it('[cp-replay-2] keeps at most replayJobs finished jobs and forgets the oldest, telling the listener; the spool file goes too', async () => {
    const forgotten: string[] = [];
    const { outbox, link, dir, ackAll } = rig({ replayJobs: 2, spoolMemoryBytes: 0 }, { onForget: (j) => forgotten.push(j) });
    link.up = false;
    for (const id of ['a', 'b', 'c']) {
      const log = outbox.open('h', id);
      log.append(out(1));
      log.append(result(1));
    }
    expect(existsSync(join(dir, 'a.spool'))).toBe(true);
    link.up = true;
    outbox.pumpAll();
    await ackAll();
    expect(forgotten).toEqual(['a']);
    expect(outbox.get('a')).toBeUndefined();
    expect(outbox.get('c')).toBeDefined();
    expect(existsSync(join(dir, 'a.spool'))).toBe(false);
  });

  it('[cp-replay-2] sweep forgets finished, acknowledged jobs older than the retention, and never a running or unacknowledged one', async () => {
    const forgotten: string[] = [];
    const { outbox, ackAll } = rig({ replayRetentionMs: 1_000 }, { onForget: (j) => forgotten.push(j) });
    const done = outbox.open('h', 'done');
    done.append(result());
    const running = outbox.open('h', 'running');
    running.append(out(1));
    await ackAll();
    const unacked = outbox.open('h', 'unacked');
    unacked.append(result());
    outbox.sweep(Date.now() + 500);
    expect(forgotten).toEqual([]);
    outbox.sweep(Date.now() + 2_000);
    expect(forgotten).toEqual(['done']);
    expect(outbox.get('running')).toBeDefined();
    expect(outbox.get('unacked')).toBeDefined();
  });

  it('[cp-evt-8] a log opened at seq 1 (a lost job) numbers its events from there', async () => {
    const { outbox, published, ackAll } = rig();
    outbox.open('h', 'lost1', 1).append({ type: 'lost', code: ErrorCodes.LOST, message: 'gone', boot: 2 });
    await ackAll();
    expect(published.map((p) => [p.ev.seq, p.ev.type])).toEqual([[1, 'lost']]);
  });
});
