// examples/node-red/flows.json, stock nodes only, in a real Node-RED against a real broker and two
// real agents: the plain-MQTT contract is enough to run commands, route by exit code, join a fleet
// answer and stream output.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent, type Agent } from '../../agent/index.js';
import { startAedes, type TestBroker } from '../helpers/brokers.js';
import { debugFeed, type DebugFeed } from './comms.js';
import { startNodeRed, withBrokerPort, type NodeRed } from './runtime.js';

const FLOWS = JSON.parse(readFileSync(new URL('../../examples/node-red/flows.json', import.meta.url), 'utf8'));
const STOCK = new Set(['tab', 'mqtt-broker', 'comment', 'inject', 'http in', 'http response', 'mqtt in', 'mqtt out', 'function', 'switch', 'join', 'debug']);

describe('examples/node-red/flows.json in a real Node-RED', () => {
  let broker: TestBroker;
  let red: NodeRed;
  let feed: DebugFeed;
  let dir: string;
  const agents: Agent[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cp-nr-flow-'));
    broker = await startAedes();
    for (const name of ['web-1', 'web-2']) {
      const a = createAgent({ broker: broker.url, name, labels: { role: 'web' }, stateDir: join(dir, name) });
      await a.start();
      agents.push(a);
    }
    red = await startNodeRed({ flows: withBrokerPort(FLOWS, broker.port) });
    await red.waitForLog(/Connected to broker/);
    feed = await debugFeed(red.url);
    // Presence is retained: both hosts are known as soon as the flow's subscription is granted.
    await until(async () => (await red.get('/conplyent/broadcast')).body?.expected?.length === 2);
  }, 60_000);

  afterAll(async () => {
    feed?.close();
    await red?.stop();
    for (const a of agents) await a.stop().catch(() => {});
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('uses only stock core nodes', () => {
    expect(FLOWS.filter((n: { type: string }) => !STOCK.has(n.type))).toEqual([]);
  });

  it('runs exec uptime on one host and routes exit code 0 to the success path', async () => {
    const r = await red.get('/conplyent/uptime?host=web-1');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ host: 'web-1', code: 0, route: 'success' });
    expect(r.body.stdout).toMatch(/load average/);
  });

  it('routes a failing command (exit code 1) to the failure path', async () => {
    const r = await red.get('/conplyent/exec?host=web-2&line=false');
    expect(r.status).toBe(502);
    expect(r.body).toMatchObject({ host: 'web-2', code: 1, route: 'failure' });
  });

  it('routes an agent rejection and an unknown host to the failure path too', async () => {
    const spawnFail = await red.get('/conplyent/exec?host=web-1&line=no-such-program-xyz');
    expect(spawnFail.status).toBe(502);
    expect(spawnFail.body).toMatchObject({ route: 'failure' });
    expect(spawnFail.body.code).not.toBe(0);
    const unknown = await red.get('/conplyent/uptime?host=nobody');
    expect(unknown.status).toBe(502);
    expect(unknown.body).toMatchObject({ error: 'UNKNOWN_HOST', route: 'failure' });
  });

  it('broadcasts to role=web with one publish and joins both hosts into one message', async () => {
    const spy = await mqtt.connectAsync(broker.url, { clientId: 'cmd-spy' });
    (spy.stream as any)?.setNoDelay?.(true);
    const seen: { topic: string; body: any }[] = [];
    spy.on('message', (topic, payload) => seen.push({ topic, body: JSON.parse(payload.toString()) }));
    await spy.subscribeAsync('conplyent/+/cmd', { qos: 1 });
    const r = await red.get('/conplyent/broadcast?target=role%3Dweb');
    await spy.endAsync();
    expect(seen.filter((m) => m.body.id === r.body.job)).toEqual([{ topic: 'conplyent/_all/cmd', body: expect.objectContaining({ target: 'role=web', cmd: 'exec' }) }]);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ target: 'role=web', expected: ['web-1', 'web-2'], notAnswered: [], complete: true, failed: [] });
    expect(Object.keys(r.body.results).sort()).toEqual(['web-1', 'web-2']);
    expect(r.body.results['web-2'].stdout).toMatch(/load average/);
  });

  it('answers a target that matches no host at once with NO_MATCH', async () => {
    const r = await red.get('/conplyent/broadcast?target=role%3Ddb');
    expect(r.status).toBe(404);
    expect(r.body).toMatchObject({ error: 'NO_MATCH' });
  });

  it('streams a long job line by line into the debug node, before the job ends', async () => {
    const reply = red.get('/conplyent/stream?host=web-1&count=4');
    let replied = false;
    void reply.then(() => (replied = true));
    // The first line reaches the sidebar while the job is still printing the others.
    const first = await feed.waitFor('streamed lines', (m) => m.some((x) => x.msg.includes('line 1')));
    expect(first.length).toBeLessThan(4);
    expect(replied).toBe(false);
    const r = await reply;
    expect(r.body).toMatchObject({ host: 'web-1', code: 0, lines: ['line 1', 'line 2', 'line 3', 'line 4'] });
    const all = await feed.waitFor('streamed lines', (m) => m.length >= 4);
    expect(all.map((m) => m.msg)).toEqual(['line 1', 'line 2', 'line 3', 'line 4']);
  });

  it('names an online host that never answers once the join timeout passed', async () => {
    // A host whose presence says online with role=web, but no agent behind it.
    const ghost = await mqtt.connectAsync(broker.url, { clientId: 'ghost-writer' });
    (ghost.stream as any)?.setNoDelay?.(true);
    const status = { v: 1, host: 'web-9', online: true, boot: 1, conn: 1, since: Date.now(), startedAt: Date.now(), labels: { role: 'web' }, commands: [] };
    await ghost.publishAsync('conplyent/web-9/status', JSON.stringify(status), { qos: 1, retain: true });
    try {
      // Retried until the flow has seen web-9's presence; that call then waits out the join timeout.
      let r: Awaited<ReturnType<NodeRed['get']>> | undefined;
      await until(async () => (r = await red.get('/conplyent/broadcast?target=role%3Dweb')).body.expected.includes('web-9'));
      r = r!;
      expect(r.body).toMatchObject({ expected: ['web-1', 'web-2', 'web-9'], notAnswered: ['web-9'], complete: false });
      expect(Object.keys(r.body.results).sort()).toEqual(['web-1', 'web-2']);
    } finally {
      await ghost.publishAsync('conplyent/web-9/status', '', { qos: 1, retain: true });
      await ghost.endAsync();
    }
  });

  it('names a stopped host as not answering and still reports the other', async () => {
    await agents[1].stop();
    const r = await red.get('/conplyent/broadcast?target=role%3Dweb');
    expect(r.body).toMatchObject({ expected: ['web-1', 'web-2'], notAnswered: ['web-2'], complete: false });
    expect(r.body.results['web-1']).toMatchObject({ host: 'web-1', code: 0 });
    expect(red.alive()).toBe(true);
  });
});

async function until(cond: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}
