// Recovery waits for what a replay said it republished, not a fixed grace: across a cluster the
// replayed events (job topic) can arrive well after the replay's own result (another topic).
import { describe, expect, it } from 'vitest';
import type { HostResult } from '../../controller/collect.js';
import { ANSWERED_REPLAYS, Recovery, type RecoveryHooks } from '../../controller/recovery.js';

const replayResult = (value: unknown): HostResult => ({ host: 'h', state: 'ok', code: 0, signal: null, durationMs: 1, stdout: Buffer.alloc(0), stderr: Buffer.alloc(0), value });

function fixture(value: unknown, arrivalMs = 5_000) {
  let hole: number | undefined = 5;
  const hooks: RecoveryHooks = {
    replay: async () => replayResult(value),
    waitingFor: () => hole,
    firstMissing: () => hole,
    heard: () => 0,
    skipHole: () => undefined,
    recover: () => undefined,
    settled: () => false,
  };
  const recovery = new Recovery(hooks, 10, 500, arrivalMs);
  return { recovery, fill: () => (hole = undefined) };
}

describe('Recovery.replay [cp-replay-1]', () => {
  it('waits past the grace until the hole inside the replayed range is filled', async () => {
    const f = fixture({ from: 5, replayed: 10, firstAvailable: 0 });
    let filledAt = 0;
    setTimeout(() => {
      filledAt = Date.now();
      f.fill();
    }, 300);
    await f.recovery.replay('h', 5);
    expect(filledAt).toBeGreaterThan(0);
  });

  it('does not wait for a hole the replay cannot cover (gone before firstAvailable, or nothing replayed)', async () => {
    for (const value of [{ from: 0, replayed: 10, firstAvailable: 20 }, { from: 5, replayed: 0, firstAvailable: 0 }, undefined]) {
      const f = fixture(value, 60_000);
      let filled = false;
      const timer = setTimeout(() => {
        filled = true;
        f.fill();
      }, 2_000);
      await f.recovery.replay('h', 5);
      clearTimeout(timer);
      expect(filled).toBe(false);
    }
  });

  it('keeps waiting while the replayed events arrive (the hole moves on), past one bound', async () => {
    let hole: number | undefined = 5;
    const recovery = new Recovery(
      { replay: async () => replayResult({ from: 5, replayed: 10, firstAvailable: 0 }), waitingFor: () => hole,
    firstMissing: () => hole,
    heard: () => 0, skipHole: () => undefined, recover: () => undefined, settled: () => false },
      10,
      500,
      400,
    );
    // One event every 150 ms: 1.5 s in all, well past the 400 ms bound, but never 400 ms without progress.
    const timer = setInterval(() => (hole = hole !== undefined && hole < 14 ? hole + 1 : undefined), 150);
    await recovery.replay('h', 5);
    clearInterval(timer);
    expect(hole).toBeUndefined();
  });

  it('waits for a hole the reorder buffer already gave up on: it is still missing from the stream', async () => {
    // A long stream overflowed the reorder buffer behind the hole, which skipped it (waitingFor is
    // undefined) so later events could flow; the replay at the terminal must still be waited for.
    let missing: number | undefined = 28;
    const recovery = new Recovery(
      { replay: async () => replayResult({ from: 28, replayed: 9972, firstAvailable: 0 }), waitingFor: () => undefined, firstMissing: () => missing, heard: () => 0, skipHole: () => undefined, recover: () => undefined, settled: () => false },
      10,
      500,
      5_000,
    );
    const timer = setTimeout(() => (missing = undefined), 300);
    const started = Date.now();
    await recovery.replay('h', 28);
    clearTimeout(timer);
    expect(missing).toBeUndefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('keeps waiting while the host\'s other events still arrive (a backlog ahead of the replay), past one bound', async () => {
    let missing: number | undefined = 28;
    let heard = 0;
    const recovery = new Recovery(
      { replay: async () => replayResult({ from: 28, replayed: 100, firstAvailable: 0 }), waitingFor: () => undefined, firstMissing: () => missing, heard: () => heard, skipHole: () => undefined, recover: () => undefined, settled: () => false },
      10,
      500,
      400,
    );
    // The backlog drains for 1.2 s, well past the 400 ms bound, then the replayed events come.
    const draining = setInterval(() => heard++, 100);
    const filled = setTimeout(() => {
      clearInterval(draining);
      missing = undefined;
    }, 1_200);
    await recovery.replay('h', 28);
    clearInterval(draining);
    clearTimeout(filled);
    expect(missing).toBeUndefined();
  });

  it('gives up after its bound when the replayed events never come', async () => {
    const f = fixture({ from: 5, replayed: 10, firstAvailable: 0 }, 200);
    await f.recovery.replay('h', 5);
    expect(f.recovery.isReplaying('h')).toBe(false);
  });
});

describe('Recovery: a replay that never reached the host', () => {
  it('is asked again (bounded) instead of counting as proof that the events are gone', async () => {
    let hole: number | undefined = 5;
    const answers: HostResult['state'][] = ['no-answer', 'offline', 'ok'];
    const asked: number[] = [];
    let skipped = 0;
    const recovery: Recovery = new Recovery(
      {
        replay: async (_h, from) => {
          asked.push(from);
          const state = answers.shift() ?? 'ok';
          if (state === 'ok') hole = undefined; // the host got it: the events arrive
          return { ...replayResult({ from, replayed: state === 'ok' ? 3 : 0, firstAvailable: 0 }), state };
        },
        waitingFor: () => hole,
    firstMissing: () => hole,
    heard: () => 0,
        skipHole: () => void skipped++,
        recover: (h, from) => void recovery.replay(h, from).then(() => recovery.watch(h)),
        settled: () => hole === undefined,
      },
      1,
      20,
      1_000,
    );
    recovery.watch('h');
    const deadline = Date.now() + 5_000;
    while (hole !== undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(asked).toEqual([5, 5, 5]);
    expect(skipped).toBe(0);
    expect(hole).toBeUndefined();
  });

  it('is asked again for as long as its time bound, not a number of tries, then the hole is skipped', async () => {
    const hole: number | undefined = 5;
    let asked = 0;
    let firstAskedAt = 0;
    let skippedAt = 0;
    let skipped = 0;
    const recovery: Recovery = new Recovery(
      {
        replay: async (_h, from) => {
          if (asked++ === 0) firstAskedAt = Date.now();
          return { ...replayResult({ from, replayed: 0, firstAvailable: 0 }), state: 'offline' };
        },
        waitingFor: () => hole,
    firstMissing: () => hole,
    heard: () => 0,
        skipHole: () => void (skipped++, (skippedAt = Date.now())),
        recover: (h, from) => void recovery.replay(h, from).then(() => recovery.watch(h)),
        settled: () => skipped > 0,
      },
      1,
      10,
      1_000,
      600,
    );
    recovery.watch('h');
    const deadline = Date.now() + 5_000;
    while (skipped === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    // One try about every 11 ms, for the whole 600 ms: a count of 20 would have ended after ≈ 230 ms.
    expect(skipped).toBe(1);
    expect(skippedAt - firstAskedAt).toBeGreaterThanOrEqual(600);
    expect(asked).toBeGreaterThan(20);
  });
});

describe('Recovery.next: once the terminal is in, what a replay proved', () => {
  const answered = (value: unknown, state: HostResult['state'] = 'ok'): HostResult => ({ ...replayResult(value), state });
  function endgame(missing: () => number | undefined, unansweredMs = 60_000) {
    const hooks: RecoveryHooks = {
      replay: async () => answered(undefined),
      waitingFor: () => undefined,
      firstMissing: (_h, from) => {
        const m = missing();
        return m !== undefined && m >= from ? m : undefined;
      },
      heard: () => 0,
      skipHole: () => undefined,
      recover: () => undefined,
      settled: () => false,
    };
    return new Recovery(hooks, 1, 10, 100, unansweredMs);
  }

  it('asks again for a hole the host said it republished but whose events never came, up to ANSWERED_REPLAYS answered replays in all', () => {
    const r = endgame(() => 30);
    const asks: (number | undefined)[] = [];
    for (let i = 0; i < ANSWERED_REPLAYS + 1; i++) asks.push(r.next('h', 30, answered({ from: 30, replayed: 1000, firstAvailable: 0 })));
    expect(asks).toEqual([...Array(ANSWERED_REPLAYS - 1).fill(30), undefined, undefined]);
  });

  it('asks for a hole the replay did not cover: one after its range, or one below its from', () => {
    expect(endgame(() => 900).next('h', 30, answered({ from: 30, replayed: 500, firstAvailable: 0 }))).toBe(900);
    expect(endgame(() => 10).next('h', 30, answered({ from: 30, replayed: 500, firstAvailable: 0 }))).toBe(10);
  });

  it('gives up on what the host no longer keeps or has nothing of, on an error and on an answer without a count', () => {
    expect(endgame(() => 5).next('h', 5, answered({ from: 5, replayed: 10, firstAvailable: 20 }))).toBeUndefined();
    expect(endgame(() => 5).next('h', 5, answered({ from: 5, replayed: 0, firstAvailable: 0 }))).toBeUndefined();
    expect(endgame(() => 5).next('h', 5, answered(undefined))).toBeUndefined();
    expect(endgame(() => 5).next('h', 5, answered({ from: 5, replayed: 'x', firstAvailable: 0 }))).toBeUndefined();
    expect(endgame(() => 5).next('h', 5, answered({ error: 'x' }, 'error'))).toBeUndefined();
  });

  it('remembers what an earlier answer proved gone: a hole below its firstAvailable is not asked for again', () => {
    let hole = 25;
    const r = endgame(() => hole);
    // The host keeps events from 20 on: 25 is asked for; then only 5 is missing, below what it keeps.
    expect(r.next('h', 25, answered({ from: 25, replayed: 100, firstAvailable: 20 }))).toBe(25);
    hole = 5;
    expect(r.next('h', 25, answered(undefined, 'no-answer'))).toBeUndefined();
  });

  it('a replay the host accepted but did not finish within the wait proves nothing: asked again', () => {
    expect(endgame(() => 5).next('h', 5, answered(undefined, 'running'))).toBe(5);
  });

  it('asks again after unanswered replays until their time bound, counted from the first of them, whether or not the hole moves', async () => {
    let hole = 5;
    const r = endgame(() => hole, 200);
    expect(r.next('h', 5, answered(undefined, 'no-answer'))).toBe(5);
    hole = 7; // events arrived in the meantime: the bound still counts from the first unanswered replay
    expect(r.next('h', 5, answered(undefined, 'offline'))).toBe(7);
    await new Promise((res) => setTimeout(res, 300));
    expect(r.next('h', 7, answered(undefined, 'no-answer'))).toBeUndefined();
  });

  it('stop() forgets the endgame and cancels the next ask', async () => {
    const r = endgame(() => 5);
    expect(r.next('h', 5, answered(undefined, 'no-answer'))).toBe(5);
    let asked = false;
    r.later('h', () => (asked = true));
    r.stop('h');
    await new Promise((res) => setTimeout(res, 50));
    expect(asked).toBe(false);
  });
});
