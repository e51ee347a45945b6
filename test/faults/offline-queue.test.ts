// Commands queued for an offline agent in its persistent session.
// One survives a broker restart (aedes with a data dir, Mosquitto with persistence; on a cluster the
// restart of the agent's node, the queue living in JetStream or Redis) and runs exactly once; one whose
// TTL passes while the agent is away is answered EXPIRED and never runs; one delivered to a
// connection that died before acknowledging it reaches the agent again when it returns, and runs
// once. Commands are sent from, and answers read on, the controllers' node.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from '../../agent/index.js';
import { clusterKinds, isClustered, startBrokerKind, type TestBroker } from '../helpers/brokers.js';
import { until } from '../helpers/until.js';
import { connectWire, sleep, type Wire } from '../helpers/wire.js';
import { checkStream, figures, testAgent } from './scenario.js';

/** A small skew allowance so an expired TTL is reached in under a second. */
const SKEW_MS = 200;
/** Bounds, not timings: a restarted cluster node recovers its JetStream or Redis-held sessions first. */
const TEST_MS = 200_000;
/**
 * How long a command left unacknowledged by a dead connection may take to reach the returning agent.
 * Under nats-server's default ack_wait (30 s) it is sent again only then (nats-io/nats-server#8360);
 * the ack_wait of our NATS configuration (test/helpers/nats-conf.ts) must bring it in well before.
 */
const RESEND_WAIT_MS = 25_000;

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
    // above, before our NATS configuration set ack_wait (see the last test here); the cause was not
    // pinned down. A bound, not a timing: what is checked is EXPIRED, never run.
    const ev = await wire.waitFor((m) => m.topic === 'conplyent/q-2/job/stale-1' && ['result', 'error'].includes(m.json.type), isClustered(kind) ? 120_000 : 15_000, 'the answer to the stale command');
    const answeredAfterMs = Date.now() - t0;
    await sleep(300);
    figures(`expired-in-queue/${kind}`, { expiredExecuted: existsSync(marker) ? 1 : 0, answer: ev.json.error ?? ev.json.type, agentStartMs: startedMs, answeredAfterMs });
    expect(ev.json).toMatchObject({ type: 'error', error: 'EXPIRED' });
    expect(existsSync(marker)).toBe(false);
  }, TEST_MS);

  it('a command delivered to a connection that died before its PUBACK reaches the agent when it returns, and runs once', async () => {
    const marker = join(dir, 'inflight.marker');
    await start('q-3');
    await stop();
    // The agent's session with a connection that takes the command and dies before acknowledging it
    // (a link cut between the broker's write and the agent's PUBACK). It runs nothing.
    let delivered = false;
    const dying = await mqtt.connectAsync(broker.url, { clientId: 'q-3', clean: false, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: isClustered(kind) ? 60_000 : 15_000 });
    // mqtt.js sends a PUBACK once handleMessage calls back: for the command, never (the statuses
    // queued in the session before it are taken, or mqtt.js would read no further).
    dying.handleMessage = (packet, callback) => {
      if (packet.topic === 'conplyent/q-3/cmd') delivered = true;
      else callback();
    };
    try {
      wire = await connectWire(broker.controllerUrl);
      await wire.client.publishAsync('conplyent/q-3/cmd', JSON.stringify(exec('inflight-1', marker, 120_000)), { qos: 1 });
      await until('the command delivered to the dying connection', () => delivered, isClustered(kind) ? 60_000 : 15_000);
    } finally {
      dying.end(true);
    }
    const t0 = Date.now();
    await start('q-3');
    // [MQTT-4.4.0-1]: the broker sends unacknowledged messages again when the session resumes.
    const ev = await wire.waitFor((m) => m.topic === 'conplyent/q-3/job/inflight-1' && m.json.type === 'result', RESEND_WAIT_MS, 'the result of the command the dead connection never acknowledged');
    const answeredAfterMs = Date.now() - t0;
    await sleep(500); // a second delivery would run now, if dedupe failed
    const runs = existsSync(marker) ? readFileSync(marker, 'utf8').split('\n').filter(Boolean).length : 0;
    figures(`inflight-resent/${kind}`, { executions: runs, answeredAfterMs });
    expect(ev.json).toMatchObject({ type: 'result', code: 0 });
    expect(runs).toBe(1);
  }, TEST_MS);
});
