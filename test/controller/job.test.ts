// JobHandle bookkeeping with a stub owner (no broker): which hosts settle how, and when replays are asked for.
import { describe, expect, it } from 'vitest';
import type { JobEvent } from '../../protocol/index.js';
import type { HostResult } from '../../controller/collect.js';
import { JobHandle, type JobOwner, type JobSetup } from '../../controller/job.js';

const base = { v: 1 as const, job: 'j1', ts: 0 };
const accepted = (host: string, seq = 0): JobEvent => ({ ...base, host, seq, type: 'accepted', cmd: 'x', args: [], kind: 'foreground', boot: 1 });
const out = (host: string, seq: number, data: string): JobEvent => ({ ...base, host, seq, type: 'output', stream: 'stdout', data });
const result = (host: string, seq: number, events: number): JobEvent => ({ ...base, host, seq, type: 'result', code: 0, durationMs: 1, events });

/** What an agent's `replay` answers [cp-replay-1]: it republished `replayed` events from `from`. */
const replayAnswer = (host: string, from: number, replayed: number): HostResult => ({
  host, state: 'ok', code: 0, signal: null, durationMs: 1, stdout: Buffer.alloc(0), stderr: Buffer.alloc(0), value: { from, replayed, firstAvailable: 0 },
});

function owner(replayed: (host: string, from: number, job: JobHandle) => void = () => {}) {
  const calls: { host: string; from: number }[] = [];
  const o: JobOwner & { calls: typeof calls; job?: JobHandle } = {
    calls,
    async replay(host, _job, from) {
      calls.push({ host, from });
      replayed(host, from, o.job!);
      return { host, state: 'ok', code: 0, signal: null, durationMs: 1, stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) } as HostResult;
    },
    async control() {
      throw new Error('not used');
    },
    release() {},
  };
  return o;
}

function job(o: ReturnType<typeof owner>, setup: Partial<JobSetup> = {}): JobHandle {
  const h = new JobHandle(o, { id: 'j1', cmd: 'x', expected: ['a', 'b'], offline: [], unknown: [], noMatch: false, replayGraceMs: 5, ...setup });
  o.job = h;
  return h;
}

describe('JobHandle', () => {
  it('settles one result per expected host, offline hosts at once', async () => {
    const o = owner();
    const h = job(o, { expected: ['a', 'b', 'c'], offline: ['c'] });
    h.begin();
    h.onEvent('a', accepted('a'));
    h.onEvent('a', result('a', 1, 0));
    h.onEvent('b', accepted('b'));
    h.onEvent('b', result('b', 1, 0));
    const r = await h.done();
    expect(r.map((x) => [x.host, x.state]).sort()).toEqual([['a', 'ok'], ['b', 'ok'], ['c', 'offline']]);
  });

  it('hosts that never answer are no-answer after waitMs', async () => {
    const o = owner();
    const h = job(o, { waitMs: 50 });
    h.begin();
    h.onEvent('a', accepted('a'));
    h.onEvent('a', result('a', 1, 0));
    const r = await h.done();
    expect(r.find((x) => x.host === 'b')?.state).toBe('no-answer');
  });

  it('a seq hole at the terminal asks the host to replay from the hole, and the replay completes the result', async () => {
    const o = owner((host, from, jh) => {
      // The agent republishes the stored events from `from` on the job topic.
      if (host === 'a' && from === 1) {
        jh.onEvent('a', out('a', 1, 'one\n'));
        jh.onEvent('a', out('a', 2, 'two\n'));
        jh.onEvent('a', result('a', 3, 2));
      }
    });
    const h = job(o, { expected: ['a'] });
    h.begin();
    h.onEvent('a', accepted('a'));
    h.onEvent('a', out('a', 2, 'two\n'));
    h.onEvent('a', result('a', 3, 2));
    const [r] = await h.done();
    expect(o.calls).toEqual([{ host: 'a', from: 1 }]);
    expect(r!.state).toBe('ok');
    expect(r!.gap).toBeUndefined();
    expect(r!.stdout.toString()).toBe('one\ntwo\n');
  });

  it('a replay whose events never came is asked again once the terminal is in, and the second one completes the result', async () => {
    let asks = 0;
    const o = owner();
    // The first republish is lost in transit (a cluster node dying under it); the second arrives.
    o.replay = async (host, _job, from) => {
      o.calls.push({ host, from });
      if (++asks === 2) {
        o.job!.onEvent(host, out(host, 1, 'one\n'));
        o.job!.onEvent(host, out(host, 2, 'two\n'));
      }
      return replayAnswer(host, from, 3);
    };
    // The wait ends a job whose second replay never comes with a gap, not a hung test.
    const h = job(o, { expected: ['a'], replayArrivalMs: 50, waitMs: 5_000 });
    h.begin();
    h.onEvent('a', accepted('a'));
    h.onEvent('a', result('a', 3, 2));
    const [r] = await h.done();
    expect(o.calls).toEqual([{ host: 'a', from: 1 }, { host: 'a', from: 1 }]);
    expect(r!.gap).toBeUndefined();
    expect(r!.stdout.toString()).toBe('one\ntwo\n');
  });

  it('a terminal that arrives during a replay of an earlier hole gets a replay of the later one too', async () => {
    const o = owner();
    let release!: () => void;
    o.replay = async (host, _job, from) => {
      o.calls.push({ host, from });
      if (from === 1) {
        // Mid-stream: the host republishes seq 1 (all it had from there); the terminal comes meanwhile.
        o.job!.onEvent(host, out(host, 1, 'one\n'));
        await new Promise<void>((r) => (release = r));
        return replayAnswer(host, from, 1);
      }
      o.job!.onEvent(host, out(host, 3, 'three\n'));
      return replayAnswer(host, from, 2);
    };
    const h = job(o, { expected: ['a'], replayArrivalMs: 50, waitMs: 5_000 });
    h.begin();
    h.onEvent('a', accepted('a'));
    h.onEvent('a', out('a', 2, 'two\n'));
    // The hole at 1 stays open for HOLE_WAIT_MS: a replay from 1 is asked.
    const until = Date.now() + 5_000;
    while (o.calls.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    expect(o.calls).toEqual([{ host: 'a', from: 1 }]);
    h.onEvent('a', result('a', 4, 3)); // seq 3 never came live
    release();
    const [r] = await h.done();
    expect(o.calls).toEqual([{ host: 'a', from: 1 }, { host: 'a', from: 3 }]);
    expect(r!.gap).toBeUndefined();
    expect(r!.stdout.toString()).toBe('one\ntwo\nthree\n');
  });

  it('a hole the replay cannot fill ends as a gap in the result', async () => {
    const o = owner();
    const h = job(o, { expected: ['a'] });
    h.begin();
    h.onEvent('a', accepted('a'));
    h.onEvent('a', result('a', 2, 1));
    const [r] = await h.done();
    expect(r!.gap?.missingSeqs).toEqual([1]);
  });

  it('hosts that answer without being expected are included', async () => {
    const o = owner();
    const h = job(o, { expected: ['a'] });
    h.begin();
    h.onEvent('new-1', accepted('new-1'));
    h.onEvent('a', accepted('a'));
    h.onEvent('a', result('a', 1, 0));
    h.onEvent('new-1', result('new-1', 1, 0));
    const r = await h.done();
    expect(r.map((x) => x.host).sort()).toEqual(['a', 'new-1']);
  });

  it('iterates events then one final per host', async () => {
    const o = owner();
    const h = job(o, { expected: ['a'] });
    const items: string[] = [];
    const reading = (async () => {
      for await (const it of h) items.push(it.kind === 'event' ? `${it.host}:${it.event.type}` : `${it.host}:final:${it.result.state}`);
    })();
    h.begin();
    h.onEvent('a', accepted('a'));
    h.onEvent('a', accepted('a'));
    h.onEvent('a', result('a', 1, 0));
    await reading;
    expect(items).toEqual(['a:accepted', 'a:result', 'a:final:ok']);
  });

  it('hands events out in seq order per host: a live event that overtakes a replayed one waits for it', async () => {
    const o = owner();
    const h = job(o, { expected: ['a'] });
    const seqs: number[] = [];
    h.on('event', ({ event }) => seqs.push(event.seq));
    h.begin();
    h.onEvent('a', out('a', 2, 'two\n'));
    h.onEvent('a', out('a', 3, 'three\n'));
    expect(seqs).toEqual([]);
    h.onEvent('a', accepted('a'));
    h.onEvent('a', out('a', 1, 'one\n'));
    h.onEvent('a', result('a', 4, 3));
    const [r] = await h.done();
    expect(seqs).toEqual([0, 1, 2, 3, 4]);
    expect(r!.stdout.toString()).toBe('one\ntwo\nthree\n');
  });

  it('a hole that stays open mid-stream asks the host to replay from it', async () => {
    const o = owner();
    const h = job(o, { expected: ['a'], waitMs: 2000 });
    h.begin();
    h.onEvent('a', accepted('a'));
    h.onEvent('a', out('a', 2, 'two\n'));
    await new Promise((r) => setTimeout(r, 700));
    expect(o.calls).toEqual([{ host: 'a', from: 1 }]);
    h.onEvent('a', out('a', 1, 'one\n'));
    h.onEvent('a', result('a', 3, 2));
    expect((await h.done())[0]!.state).toBe('ok');
  });

  it('a hole one replay cannot fill is skipped: the stream moves on and the result reports the gap', async () => {
    const o = owner();
    const h = job(o, { expected: ['a'], waitMs: 5000 });
    const seqs: number[] = [];
    h.on('event', ({ event }) => seqs.push(event.seq));
    h.begin();
    h.onEvent('a', accepted('a'));
    h.onEvent('a', out('a', 2, 'two\n'));
    const deadline = Date.now() + 3000;
    while (!seqs.includes(2) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(seqs).toEqual([0, 2]);
    expect(o.calls).toEqual([{ host: 'a', from: 1 }]);
    h.onEvent('a', result('a', 3, 2));
    const [r] = await h.done();
    expect(r!.gap?.missingSeqs).toEqual([1]);
  });

  it('noMatch resolves with no results', async () => {
    const h = job(owner(), { expected: [], noMatch: true });
    h.begin();
    expect(await h.done()).toEqual([]);
  });
  it('[cp-fold-3] a folded terminal is handed out as accepted then the terminal, once, and settles the host', async () => {
    const h = job(owner(), { expected: ['a'] });
    const items: string[] = [];
    h.on('event', ({ event }) => items.push(`${event.type}@${event.seq}`));
    h.begin();
    const folded: JobEvent = { ...base, host: 'a', seq: 0, type: 'result', code: 0, durationMs: 0, events: 0, value: 'pong', accepted: { cmd: 'ping', args: [], kind: 'foreground', boot: 7 } };
    h.onEvent('a', folded);
    h.onEvent('a', folded); // a QoS 1 redelivery or a replayed copy: dropped by seq
    const [r] = await h.done();
    expect(r).toMatchObject({ host: 'a', state: 'ok', value: 'pong' });
    expect(items).toEqual(['accepted@0', 'result@0']);
  });
});
