// Commands queued for an offline agent in its persistent session.
// One survives a broker restart (aedes with a data dir, Mosquitto with persistence; on a cluster the
// restart of the agent's node, the queue living in JetStream or Redis) and runs exactly once; one whose
// TTL passes while the agent is away is answered EXPIRED and never runs. Commands are sent from, and
// answers read on, the controllers' node.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from '../../agent/index.js';
import { clusterKinds, isClustered, startBrokerKind, type TestBroker } from '../helpers/brokers.js';
import { connectWire, sleep, type Wire } from '../helpers/wire.js';
import { checkStream, figures, testAgent } from './scenario.js';

/** A small skew allowance so an expired TTL is reached in under a second. */
const SKEW_MS = 200;
/** Bounds, not timings: a restarted cluster node recovers its JetStream or Redis-held sessions first. */
const TEST_MS = 200_000;

describe.each(clusterKinds())('commands queued for an offline agent on %s', (kind) => {
  let broker: TestBroker;
  let wire: Wire | undefined;
  let dir: string;
  let agent: Agent | undefined;
  const start = async (name: string) => {
    agent = testAgent({ broker: broker.url, name, stateDir: join(dir, name), clockSkewMs: SKEW_MS });
    await agent.start();
    return agent;
  };
  /** Stops the agent cleanly: its session (subscriptions, queue) stays on the broker. */
  const stop = async () => {
    await agent?.stop();
    agent = undefined;
  };
  const exec = (id: string, marker: string, ttlMs: number) => ({
    id,
    cmd: 'exec',
    args: ['sh', '-c', `echo ran >> ${marker}`],
    sentAt: Date.now(),
    ttlMs,
  });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cp-queue-'));
    // Mosquitto does not create its persistence directory; without it nothing survives a restart.
    mkdirSync(join(dir, 'broker-data'));
    broker = await startBrokerKind(kind, isClustered(kind) ? {} : { persistenceDir: join(dir, 'broker-data') });
  });
  afterEach(async () => {
    await stop();
    await wire?.close();
    wire = undefined;
  });
  afterAll(async () => {
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a command queued across a broker restart runs exactly once when the agent returns', async () => {
    const marker = join(dir, 'restart.marker');
    await start('q-1');
    await stop();
    const sender = await connectWire(broker.controllerUrl);
    // TTL and wait generous on clusters: a restarted NATS node first recovers its JetStream sessions,
    // which took over 45 s once under a full CI run on 2 cores.
    await sender.client.publishAsync('conplyent/q-1/cmd', JSON.stringify(exec('queued-1', marker, isClustered(kind) ? 180_000 : 60_000)), { qos: 1 });
    await sender.close();

    await broker.restart();
    wire = await connectWire(broker.controllerUrl);
    const t0 = Date.now();
    await start('q-1');
    await wire.waitFor((m) => m.topic === 'conplyent/q-1/job/queued-1' && m.json.type === 'result', isClustered(kind) ? 120_000 : 15_000, 'the queued command result');
    const ranAfterMs = Date.now() - t0;
    await sleep(500); // a redelivery would run now, if dedupe failed
    const runs = existsSync(marker) ? readFileSync(marker, 'utf8').split('\n').filter(Boolean).length : 0;
    const s = checkStream(wire.jobEvents('q-1', 'queued-1'));
    figures(`queued-across-restart/${kind}`, { executions: runs, executionsTwice: Math.max(0, runs - 1), terminals: s.terminals, missingSeqs: s.missingSeqs, ranAfterAgentStartMs: ranAfterMs });
    expect(runs).toBe(1);
    expect(s.terminals).toBe(1);
    expect(s.missingSeqs).toBe(0);
  }, TEST_MS);

  it('a queued command whose TTL passed while the agent was away is answered EXPIRED and never runs', async () => {
    const marker = join(dir, 'expired.marker');
    await start('q-2');
    await stop();
    wire = await connectWire(broker.controllerUrl);
    await wire.client.publishAsync('conplyent/q-2/cmd', JSON.stringify(exec('stale-1', marker, 300)), { qos: 1 });
    await sleep(300 + SKEW_MS + 300);
    const t0 = Date.now();
    await start('q-2');
    const startedMs = Date.now() - t0;
    // The same cluster bound as above. Usually answered within 100 ms (answeredAfterMs), but on the
    // NATS cluster two full CI runs waited over 15 s, right after the restart of the agents' node
    // above; the cause was not pinned down. One way it can happen: a QoS 1 message NATS handed to a
    // connection that went away is sent again only after its ack_wait (30 s by default;
    // docs.nats.io, config/mqtt/ack_wait). A bound, not a timing: what is checked is EXPIRED, never run.
    const ev = await wire.waitFor((m) => m.topic === 'conplyent/q-2/job/stale-1' && ['result', 'error'].includes(m.json.type), isClustered(kind) ? 120_000 : 15_000, 'the answer to the stale command');
    const answeredAfterMs = Date.now() - t0;
    await sleep(300);
    figures(`expired-in-queue/${kind}`, { expiredExecuted: existsSync(marker) ? 1 : 0, answer: ev.json.error ?? ev.json.type, agentStartMs: startedMs, answeredAfterMs });
    expect(ev.json).toMatchObject({ type: 'error', error: 'EXPIRED' });
    expect(existsSync(marker)).toBe(false);
  }, TEST_MS);
});
