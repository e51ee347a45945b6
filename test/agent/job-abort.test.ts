// A job that was killed (or whose agent stopped) before its turn in the foreground queue must never
// run afterwards, and a long timeoutMs must not kill a job at once (Node timers overflow at 2^31 ms).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { agentOnAedes } from '../helpers/agent-fixture.js';
import { result, sleep } from '../helpers/wire.js';

describe('job abort before start, long timeouts', () => {
  const f = agentOnAedes('ab-1', { keepaliveSec: 5 }, (f) => {
    // A foreground command that holds the queue for a while.
    f.agent.registerCommand('hold', async (ctx) => {
      const until = Date.now() + Number(ctx.args[0] ?? 1000);
      while (Date.now() < until && !ctx.signal.aborted) await sleep(20);
      return 'held';
    });
    // A handler stuck for good and deaf to its abort signal (like a syscall that never returns).
    f.agent.registerCommand('stuck', () => new Promise(() => undefined));
  });

  it('[cp-dispatch-3] a queued foreground job that is killed never runs: it ends CANCELLED and touches nothing', async () => {
    const file = join(f.dir, 'must-not-exist');
    f.wire.send('conplyent/ab-1/cmd', { id: 'hold-1', cmd: 'hold', args: [1500] });
    await f.wire.waitFor((m) => m.topic === 'conplyent/ab-1/job/hold-1' && m.json.type === 'accepted');
    f.wire.send('conplyent/ab-1/cmd', { id: 'queued-touch', cmd: 'touch', args: [file] });
    await f.wire.waitFor((m) => m.topic === 'conplyent/ab-1/job/queued-touch' && m.json.type === 'accepted');
    const kill = result(await f.wire.run('ab-1', { id: 'kill-queued', cmd: 'kill', args: ['queued-touch'] }));
    expect(kill.type).toBe('result');
    const t = await f.wire.waitFor((m) => m.topic === 'conplyent/ab-1/job/queued-touch' && ['result', 'error'].includes(m.json.type), 10_000);
    expect(t.json).toMatchObject({ type: 'error', error: 'CANCELLED' });
    // It ends at once, not when its turn would have come.
    const held = await f.wire.waitFor((m) => m.topic === 'conplyent/ab-1/job/hold-1' && m.json.type === 'result', 10_000);
    expect(f.wire.messages.indexOf(t)).toBeLessThan(f.wire.messages.indexOf(held));
    await sleep(200);
    expect(existsSync(file)).toBe(false);
  });

  it('[cp-dispatch-3] a killed foreground job whose handler never returns does not wedge the foreground queue', async () => {
    f.wire.send('conplyent/ab-1/cmd', { id: 'stuck-1', cmd: 'stuck' });
    await f.wire.waitFor((m) => m.topic === 'conplyent/ab-1/job/stuck-1' && m.json.type === 'accepted');
    expect(result(await f.wire.run('ab-1', { id: 'kill-stuck', cmd: 'kill', args: ['stuck-1'] })).type).toBe('result');
    const t = await f.wire.waitFor((m) => m.topic === 'conplyent/ab-1/job/stuck-1' && ['result', 'error'].includes(m.json.type), 10_000);
    expect(t.json).toMatchObject({ type: 'error', error: 'CANCELLED' });
    // Once the job is reported ended, the next foreground command must run.
    expect(result(await f.wire.run('ab-1', { id: 'after-stuck', cmd: 'cwd' }, 5_000)).type).toBe('result');
  }, 20_000);

  it('[cp-env-7] a timeoutMs beyond 2^31 ms does not time the job out at once', async () => {
    const evs = await f.wire.run('ab-1', { id: 'long-timeout', cmd: 'exec', args: ['sleep', '0.5'], timeoutMs: 3_000_000_000 });
    expect(result(evs)).toMatchObject({ type: 'result', code: 0, timedOut: false });
  });
});
