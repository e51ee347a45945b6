// [cp-conn-7] A list of brokers: agent and controller take several URLs and move to the next node
// when a connection closes, keeping the agent's jittered backoff.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createAgent, type Agent } from '../../agent/index.js';
import { connect, type Fleet } from '../../controller/index.js';
import { brokerListSchema } from '../../link/broker-list.js';
import { freePort, startAedes, type TestBroker } from '../helpers/brokers.js';
import { until } from '../helpers/until.js';



describe('[cp-conn-7] broker list parsing', () => {
  it('takes one URL, a comma-separated list or an array, and names a bad entry', () => {
    expect(brokerListSchema.parse('mqtt://a:1883')).toEqual(['mqtt://a:1883']);
    expect(brokerListSchema.parse('mqtt://a:1883, mqtt://b:1883')).toEqual(['mqtt://a:1883', 'mqtt://b:1883']);
    expect(brokerListSchema.parse(['mqtt://a:1883', 'mqtts://b:8883'])).toEqual(['mqtt://a:1883', 'mqtts://b:8883']);
    const bad = brokerListSchema.safeParse('mqtt://a:1883,http://c:80');
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.message).toMatch(/"http:\/\/c:80".*unsupported scheme/);
    expect(brokerListSchema.safeParse(' , ').success).toBe(false);
  });

  it('refuses a bad URL in an agent list before dialling anything', () => {
    expect(() => createAgent({ broker: ['mqtt://127.0.0.1:1', 'nope'], name: 'x', stateDir: '/nonexistent' })).toThrow(/agent option broker.*"nope"/);
  });
});

describe('[cp-conn-7] failover between two brokers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cp-brokers-'));
  const brokers: TestBroker[] = [];
  let agent: Agent | undefined;
  let fleet: Fleet | undefined;
  afterAll(async () => {
    await fleet?.close();
    await agent?.stop();
    for (const b of brokers) await b.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it('a controller skips a dead first URL; after the node an agent and a controller use dies, both continue on the next', async () => {
    const [a, b] = [await startAedes(), await startAedes()];
    brokers.push(a, b);
    const dead = `mqtt://127.0.0.1:${await freePort()}`;
    agent = createAgent({ broker: [a.url, b.url], name: 'fo-1', stateDir: join(dir, 'fo-1'), reconnectMinMs: 50, reconnectMaxMs: 400 });
    await agent.start();
    fleet = await connect([dead, a.url, b.url], { connectTimeoutMs: 2000 });
    expect(fleet.host('fo-1')?.online).toBe(true);
    const before = await fleet.run(['fo-1'], 'ping').done();
    expect(before[0]?.state).toBe('ok');

    const killedAt = Date.now();
    let backOnline = 0;
    agent.once('online', () => (backOnline = Date.now()));
    await a.stop();
    await until('the agent online through the second broker', () => backOnline > 0);
    console.log(`agent online again through the second broker ${backOnline - killedAt} ms after the first stopped`);
    // The controller dials the dead URL, then the second broker (its own 1 s reconnect period each).
    await until('the controller to see the agent through the second broker', () => fleet!.client.connected && fleet!.host('fo-1')?.online === true);
    let answered;
    for (let i = 0; i < 10 && answered?.state !== 'ok'; i++) {
      answered = (await fleet.run(['fo-1'], 'ping', [], { waitMs: 3000 }).done())[0];
    }
    expect(answered?.state).toBe('ok');
  });
});
