// A job that was killed (or whose agent stopped) before its turn in the foreground queue must never
// run afterwards, and a long timeoutMs must not kill a job at once (Node timers overflow at 2^31 ms).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent, type Agent } from '../../agent/index.js';
import { startAedes, type TestBroker } from '../helpers/brokers.js';
import { connectWire, result, sleep, type Wire } from '../helpers/wire.js';

describe('job abort before start, long timeouts', () => {
  let broker: TestBroker;
  let wire: Wire;
  let dir: string;
  let agent: Agent;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cp-abort-'));
    broker = await startAedes();
    wire = await connectWire(broker.url);
    agent = createAgent({ broker: broker.url, name: 'ab-1', stateDir: join(dir, 'state'), keepaliveSec: 5 });
    // A foreground command that holds the queue for a while.
    agent.registerCommand('hold', async (ctx) => {
      const until = Date.now() + Number(ctx.args[0] ?? 1000);
      while (Date.now() < until && !ctx.signal.aborted) await sleep(20);
      return 'held';
    });
    // A handler stuck for good and deaf to its abort signal (like a syscall that never returns).
    agent.registerCommand('stuck', () => new Promise(() => undefined));
    await agent.start();
  });

  afterAll(async () => {
    await agent?.stop();
    await wire?.close();
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('[cp-dispatch-3] a queued foreground job that is killed never runs: it ends CANCELLED and touches nothing', async () => {
    const file = join(dir, 'must-not-exist');
    wire.send('conplyent/ab-1/cmd', { id: 'hold-1', cmd: 'hold', args: [1500] });
    await wire.waitFor((m) => m.topic === 'conplyent/ab-1/job/hold-1' && m.json.type === 'accepted');
    wire.send('conplyent/ab-1/cmd', { id: 'queued-touch', cmd: 'touch', args: [file] });
    await wire.waitFor((m) => m.topic === 'conplyent/ab-1/job/queued-touch' && m.json.type === 'accepted');
    const kill = result(await wire.run('ab-1', { id: 'kill-queued', cmd: 'kill', args: ['queued-touch'] }));
    expect(kill.type).toBe('result');
    const t = await wire.waitFor((m) => m.topic === 'conplyent/ab-1/job/queued-touch' && ['result', 'error'].includes(m.json.type), 10_000);
    expect(t.json).toMatchObject({ type: 'error', error: 'CANCELLED' });
    // It ends at once, not when its turn would have come.
    const held = await wire.waitFor((m) => m.topic === 'conplyent/ab-1/job/hold-1' && m.json.type === 'result', 10_000);
    expect(wire.messages.indexOf(t)).toBeLessThan(wire.messages.indexOf(held));
    await sleep(200);
    expect(existsSync(file)).toBe(false);
  });

  it('[cp-dispatch-3] a killed foreground job whose handler never returns does not wedge the foreground queue', async () => {
    wire.send('conplyent/ab-1/cmd', { id: 'stuck-1', cmd: 'stuck' });
    await wire.waitFor((m) => m.topic === 'conplyent/ab-1/job/stuck-1' && m.json.type === 'accepted');
    expect(result(await wire.run('ab-1', { id: 'kill-stuck', cmd: 'kill', args: ['stuck-1'] })).type).toBe('result');
    const t = await wire.waitFor((m) => m.topic === 'conplyent/ab-1/job/stuck-1' && ['result', 'error'].includes(m.json.type), 10_000);
    expect(t.json).toMatchObject({ type: 'error', error: 'CANCELLED' });
    // Once the job is reported ended, the next foreground command must run.
    expect(result(await wire.run('ab-1', { id: 'after-stuck', cmd: 'cwd' }, 5_000)).type).toBe('result');
  }, 20_000);

  it('[cp-env-7] a timeoutMs beyond 2^31 ms does not time the job out at once', async () => {
    const evs = await wire.run('ab-1', { id: 'long-timeout', cmd: 'exec', args: ['sleep', '0.5'], timeoutMs: 3_000_000_000 });
    expect(result(evs)).toMatchObject({ type: 'result', code: 0, timedOut: false });
  });
});
