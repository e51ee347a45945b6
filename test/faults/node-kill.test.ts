// Killing the broker node an agent is connected to, on each clustered engine (a 3-node NATS JetStream
// cluster; two `conplyent broker --cluster` processes sharing Redis), while a job streams 10,000 lines
// and a second command is in flight: the agent comes back through another node of its broker list
// [cp-conn-7], no line of the stream is lost or repeated, the in-flight command runs exactly once or
// is answered (a marker file counts its runs), a host that could not fail over is shown stale
// [cp-presence-8] because its heartbeats stop, and restarting the node runs nothing again.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent, type Agent } from '../../agent/index.js';
import { connect, type Fleet } from '../../controller/index.js';
import type { BrokerCluster } from '../helpers/broker-cluster.js';
import { clusteredKinds } from '../helpers/brokers.js';
import { startNatsCluster } from '../helpers/nats-cluster.js';
import { startRedisCluster } from '../helpers/redis-cluster.js';
import { until } from '../helpers/until.js';

const LINES = 10_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const launchers: Record<string, () => Promise<BrokerCluster>> = {
  nats: () => startNatsCluster(),
  redis: () => startRedisCluster(),
};

describe.each(clusteredKinds())('node kill on the %s cluster', (kind) => {
  const dir = mkdtempSync(join(tmpdir(), `cp-nodekill-${kind}-`));
  const marker = join(dir, 'ran');
  let cluster: BrokerCluster;
  let agent: Agent;
  let pinned: Agent;
  let fleet: Fleet;

  beforeAll(async () => {
    cluster = await launchers[kind]!();
    const urls = cluster.nodes.map((n) => n.mqttUrl);
    agent = createAgent({ broker: urls, name: 'nk-1', stateDir: join(dir, 'nk-1'), reconnectMinMs: 100, reconnectMaxMs: 1000, heartbeatSec: 2 });
    agent.registerBackgroundCommand('lines', async (ctx) => {
      for (let i = 1; i <= LINES; i++) {
        await ctx.write('stdout', `${i}\n`);
        if (i % 200 === 0) await sleep(10);
      }
    });
    await agent.start();
    // Given only node 1: it cannot fail over, so its heartbeats stop with the node.
    pinned = createAgent({ broker: urls[0]!, name: 'nk-pinned', stateDir: join(dir, 'nk-pinned'), reconnectMinMs: 100, reconnectMaxMs: 1000, heartbeatSec: 1 });
    await pinned.start();
    // The controller sits on the other nodes: the kill of node 1 costs it nothing.
    fleet = await connect(urls.slice(1));
    await until('nk-1 and nk-pinned in presence', () => fleet.host('nk-1')?.online === true && fleet.host('nk-pinned')?.online === true);
  }, 60_000);
  afterAll(async () => {
    await fleet?.close();
    await agent?.stop();
    await pinned?.stop();
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the agent is back through another node, the stream is whole, the in-flight command ran once, a pinned host goes stale, a restart runs nothing again', async () => {
    // A cluster just started can take a while on a loaded machine before its QoS 1 paths carry
    // anything (NATS builds a JetStream consumer per subscription): one answered ping first, so the
    // kill below lands on a stream that is flowing, which is what this test is about.
    const [warm] = await fleet.run(['nk-1'], 'ping', [], { waitMs: 60_000 }).done();
    expect(warm?.state, `warm-up ping: ${warm?.error?.message}`).toBe('ok');
    const stream = fleet.run(['nk-1'], 'lines', [], { waitMs: 120_000 });
    let seen = 0;
    let events = 0;
    stream.on('event', (e) => {
      events++;
      if (e.event.type === 'output') seen++;
    });
    await until('the stream under way', () => seen > 20, 60_000).catch((e: Error) => {
      throw new Error(`${e.message}: ${events} events handed out, ${seen} of them output; nk-1 ${fleet.host('nk-1')?.online ? 'online' : 'not online'}`);
    });
    const inFlight = fleet.run(['nk-1'], 'exec', ['sh', '-c', `echo run >> ${marker}`], { waitMs: 120_000 });
    const before = fleet.host('nk-1')!.conn;
    const killedAt = Date.now();
    await cluster.kill(0);
    await until('nk-1 connected to another node', () => agent.connected, 60_000);
    console.log(`[${kind}] nk-1 connected to another node ${Date.now() - killedAt} ms after its node was killed`);
    // Its new presence (conn + 1) queues behind the events it resends first.
    await until('nk-1 online again in the controller', () => (fleet.host('nk-1')?.conn ?? 0) > before, 60_000);
    console.log(`[${kind}] nk-1 online again in the controller ${Date.now() - killedAt} ms after its node was killed`);
    // Stale, unless the cluster published its Will first (the Redis pair does after 3 missed beats
    // of the dead broker): either way never shown as a live host.
    await until('nk-pinned stale', () => fleet.host('nk-pinned')?.stale === true || fleet.host('nk-pinned')?.online === false, 30_000);
    console.log(`[${kind}] nk-pinned shown ${fleet.host('nk-pinned')!.stale ? 'stale' : 'offline'} ${Date.now() - killedAt} ms after its node was killed`);
    expect(fleet.host('nk-pinned')!.stale).toBe(true);

    const [streamed] = await stream.done();
    expect(streamed?.state).toBe('ok');
    const lines = streamed!.stdout.toString().split('\n').filter(Boolean);
    // What the controller knew of a hole, if any, names the cause when lines are missing.
    expect(lines.length, `gap: ${JSON.stringify(streamed!.gap)}; first missing line: ${lines.findIndex((l, i) => l !== String(i + 1)) + 1}`).toBe(LINES);
    expect(lines.every((l, i) => l === String(i + 1))).toBe(true);

    const [answered] = await inFlight.done();
    console.log(`[${kind}] in-flight command: ${answered?.state}${answered?.error ? ` (${answered.error.message})` : ''}`);
    const runs = () => (existsSync(marker) ? readFileSync(marker, 'utf8').split('\n').filter(Boolean).length : 0);
    expect(runs()).toBeLessThanOrEqual(1);
    if (answered?.state === 'ok') expect(runs()).toBe(1);

    // A NATS node's JetStream consumers may take longer than the harness's 30 s readiness bound to
    // catch up on a loaded machine; what matters here is that whatever the node redelivers runs
    // nothing again.
    await cluster.restart(0).catch((e: unknown) => console.log(`[${kind}] node 1 restarted, not yet healthy: ${String(e).split('\n')[0]}`));
    await until('nk-pinned back through the restarted node', () => fleet.host('nk-pinned')?.online === true && !fleet.host('nk-pinned')!.stale, 60_000).catch(() =>
      console.log(`[${kind}] nk-pinned not yet back after the restart`),
    );
    await sleep(3000);
    expect(runs()).toBeLessThanOrEqual(1);
    if (answered?.state === 'ok') expect(runs()).toBe(1);
  }, 240_000);
});
