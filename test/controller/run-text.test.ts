// runText prefixes envelope words (id=, from=, ttlMs=...) to the user's line; string values that
// look like numbers or literals must stay strings on the agent's side [cp-text-6].
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent, type Agent } from '../../agent/index.js';
import { connect, type Fleet } from '../../controller/index.js';
import { parseTextCommand } from '../../protocol/index.js';
import { startAedes, type TestBroker } from '../helpers/brokers.js';

describe('runText envelope words', () => {
  let broker: TestBroker;
  let agent: Agent;
  let fleet: Fleet;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cp-runtext-'));
    broker = await startAedes();
    agent = createAgent({ broker: broker.url, name: 'rt-1', stateDir: join(dir, 'state'), keepaliveSec: 5 });
    await agent.start();
    // A numeric client id: it becomes the `from` word of every text command.
    fleet = await connect(broker.url, { clientId: '4242' });
  });

  afterAll(async () => {
    await fleet?.close();
    await agent?.stop();
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a numeric job id and a numeric client id reach the agent as strings: the job runs and is collected', async () => {
    const job = fleet.runText('rt-1', 'ping', parseTextCommand('ping'), { id: '1001', waitMs: 5_000 });
    const [r] = await job.done();
    expect(r).toMatchObject({ host: 'rt-1', state: 'ok' });
  });

  it('a client id spelled like a literal (null) stays a string too', async () => {
    const other = await connect(broker.url, { clientId: 'null' });
    try {
      const [r] = await other.runText('rt-1', 'ping', parseTextCommand('ping'), { id: 'true', waitMs: 5_000 }).done();
      expect(r).toMatchObject({ host: 'rt-1', state: 'ok' });
    } finally {
      await other.close();
    }
  });
});
