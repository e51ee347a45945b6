// A job that was killed (or whose agent stopped) before its turn in the foreground queue must never
// run afterwards, and a long timeoutMs must not kill a job at once (Node timers overflow at 2^31 ms).
import { execFileSync } from 'node:child_process';
import { closeSync, constants, existsSync, mkdtempSync, openSync, rmSync } from 'node:fs';
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

  it('[cp-dispatch-3] a killed foreground job whose handler never returns (wrfile into a FIFO) does not wedge the foreground queue', async () => {
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    try {
      wire.send('conplyent/ab-1/cmd', { id: 'fifo-write', cmd: 'wrfile', args: [fifo, 'x'] });
      await wire.waitFor((m) => m.topic === 'conplyent/ab-1/job/fifo-write' && m.json.type === 'accepted');
      expect(result(await wire.run('ab-1', { id: 'kill-fifo', cmd: 'kill', args: ['fifo-write'] })).type).toBe('result');
      const t = await wire.waitFor((m) => m.topic === 'conplyent/ab-1/job/fifo-write' && ['result', 'error'].includes(m.json.type), 10_000);
      expect(t.json).toMatchObject({ type: 'error', error: 'CANCELLED' });
      // Once the job is reported ended, the next foreground command must run.
      expect(result(await wire.run('ab-1', { id: 'after-fifo', cmd: 'cwd' }, 5_000)).type).toBe('result');
    } finally {
      // Release the blocked open() so no thread-pool thread stays stuck after the test.
      closeSync(openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK));
    }
  }, 20_000);

  it('[cp-env-7] a timeoutMs beyond 2^31 ms does not time the job out at once', async () => {
    const evs = await wire.run('ab-1', { id: 'long-timeout', cmd: 'exec', args: ['sleep', '0.5'], timeoutMs: 3_000_000_000 });
    expect(result(evs)).toMatchObject({ type: 'result', code: 0, timedOut: false });
  });
});
