// A command the controller reported as not sent is never delivered later: mqtt.js keeps a QoS 1
// publish made while offline (and resends an unacknowledged one after a reconnect), so without a
// withdrawal the command would run once the link heals, long after the operator was told it did not
// go out. The controller reaches the broker through a fault proxy; the agent directly.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent, type Agent } from '../../agent/index.js';
import { connect, type Fleet } from '../../controller/index.js';
import { startAedes, type TestBroker } from '../helpers/brokers.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { until } from '../helpers/until.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a command the controller gave up sending', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cp-withdraw-'));
  let broker: TestBroker;
  let agent: Agent;
  let proxy: FaultProxy;
  let fleet: Fleet;
  let offline = 0;
  let reconnects = 0;

  beforeAll(async () => {
    broker = await startAedes();
    agent = createAgent({ broker: broker.url, name: 'wd-1', stateDir: join(dir, 'wd-1') });
    await agent.start();
    proxy = await startFaultProxy(broker.port);
    fleet = await connect(proxy.url, { keepaliveSec: 1, connectTimeoutMs: 1_000 });
    fleet.on('offline', () => offline++);
    fleet.on('reconnect', () => reconnects++);
    await until('wd-1 online', () => fleet.host('wd-1')?.online === true);
  });
  afterAll(async () => {
    await fleet?.close();
    await agent?.stop();
    await proxy?.close();
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Heals the link and proves the path works again with a command that must run. */
  async function healAndProve(): Promise<void> {
    const before = reconnects;
    proxy.heal();
    await until('the controller reconnected', () => reconnects > before, 15_000);
    const [r] = await fleet.run('wd-1', 'ping', [], { waitMs: 10_000 }).done();
    expect(r?.state).toBe('ok');
    // Anything mqtt.js still held went out right after the CONNACK, before the ping.
    await sleep(500);
  }

  it('held in the offline queue while the broker is unreachable: answered no-answer, withdrawn, never run after the link is back', async () => {
    const marker = join(dir, 'offline-queue.marker');
    const before = offline;
    proxy.blackhole();
    proxy.cut();
    await until('the controller offline', () => offline > before, 10_000);
    const [r] = await fleet.run('wd-1', 'exec', ['touch', marker], { waitMs: 1_000 }).done();
    expect(r).toMatchObject({ host: 'wd-1', state: 'no-answer', error: { code: 'NO_ANSWER' } });
    expect(r!.error!.message).toMatch(/could not be sent within 1000 ms .*; it was withdrawn and will not be sent$/);
    await healAndProve();
    expect(existsSync(marker)).toBe(false);
  });

  it('written into a dead link and never acknowledged: answered no-answer, not resent after the reconnect', async () => {
    const marker = join(dir, 'inflight.marker');
    // The connection stays up as far as the controller knows, and everything written to it is lost.
    proxy.blackhole();
    const [r] = await fleet.run('wd-1', 'exec', ['touch', marker], { waitMs: 500 }).done();
    expect(r).toMatchObject({ host: 'wd-1', state: 'no-answer' });
    expect(r!.error!.message).toMatch(/withdrawn from the resend queue, but a copy written before may have reached the broker/);
    await healAndProve();
    expect(existsSync(marker)).toBe(false);
  });
});
