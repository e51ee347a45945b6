// A replay request on its own (no broker): one host, one answer, and it tells its owner once.
import { describe, expect, it } from 'vitest';
import type { JobEvent } from '../../protocol/index.js';
import { ControlRequest } from '../../controller/request.js';

const base = { v: 1 as const, job: 'r1', ts: 0 };
const accepted = (host: string): JobEvent => ({ ...base, host, seq: 0, type: 'accepted', cmd: 'replay', args: ['j1', 0], kind: 'foreground', boot: 1 });
const result = (host: string, code = 0): JobEvent => ({ ...base, host, seq: 1, type: 'result', code, durationMs: 1, events: 0 });
const unknownJob = (host: string): JobEvent => ({ ...base, host, seq: 0, type: 'error', code: -1, error: 'UNKNOWN_JOB', message: 'no job j1' });

function request(waitMs = 5_000) {
  const settled: string[] = [];
  const req = new ControlRequest('r1', 'a', waitMs, (r) => settled.push(r.id));
  return { req, settled };
}

describe('ControlRequest', () => {
  it('answers with the host terminal event and tells its owner once', async () => {
    const { req, settled } = request();
    req.onEvent('a', accepted('a'));
    req.onEvent('a', result('a'));
    req.onEvent('a', result('a', 1));
    expect(await req.done).toMatchObject({ host: 'a', state: 'ok', code: 0 });
    expect(settled).toEqual(['r1']);
  });

  it('ignores events from another host on its topic', async () => {
    const { req } = request();
    req.onEvent('b', result('b', 1));
    req.onEvent('a', unknownJob('a'));
    expect(await req.done).toMatchObject({ host: 'a', state: 'rejected', error: { code: 'UNKNOWN_JOB' } });
  });

  it('an offline host is answered at once, the command staying queued for it', async () => {
    const { req } = request();
    req.offline();
    expect(await req.done).toMatchObject({ state: 'offline', error: { code: 'OFFLINE' } });
  });

  it('abandon settles no-answer with the reason; the wait running out does too', async () => {
    const a = request();
    a.req.abandon('the controller closed before it had a result');
    expect(await a.req.done).toMatchObject({ state: 'no-answer', error: { code: 'NO_ANSWER', message: 'a: the controller closed before it had a result' } });
    const b = request(20);
    expect(await b.req.done).toMatchObject({ state: 'no-answer' });
    expect(b.settled).toEqual(['r1']);
  });
});
