// Waits longer than Node's timer range (2^31-1 ms, about 24.8 days) must wait, not expire at once.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent, type Agent } from '../../agent/index.js';
import { connect, type Fleet } from '../../controller/index.js';
import { startAedes, type TestBroker } from '../helpers/brokers.js';

describe('long waits', () => {
  let broker: TestBroker;
  let agent: Agent;
  let fleet: Fleet;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cp-longwait-'));
    broker = await startAedes();
    agent = createAgent({ broker: broker.url, name: 'lw-1', stateDir: join(dir, 'state'), keepaliveSec: 5 });
    await agent.start();
    fleet = await connect(broker.url);
  });

  afterAll(async () => {
    await fleet?.close();
    await agent?.stop();
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a timeoutMs of 35 days (waitMs beyond 2^31 ms) waits for the result instead of settling no-answer at once', async () => {
    const job = fleet.run('lw-1', 'exec', ['sleep', '0.3'], { timeoutMs: 35 * 24 * 3600_000 });
    const [r] = await job.done();
    expect(r).toMatchObject({ host: 'lw-1', state: 'ok', code: 0 });
  });

  it('an explicit waitMs beyond 2^31 ms waits too', async () => {
    const job = fleet.run('lw-1', 'ping', [], { waitMs: 2 ** 31 + 1000 });
    const [r] = await job.done();
    expect(r).toMatchObject({ host: 'lw-1', state: 'ok' });
  });
});
