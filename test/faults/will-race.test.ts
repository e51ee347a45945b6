// Scenario 5 of issue 8: the late Will race, through the proxy. The agent's side of its connection is
// reset while the broker's side stays open and silent (the broker still holds the old connection).
// The agent reconnects at once; the broker ends the old connection by takeover and publishes that
// connection's Will, possibly after the new "online". The retained status must end online, and a
// controller must show the host online.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from '../../agent/index.js';
import { connect } from '../../controller/index.js';
import { brokerKinds, startBrokerKind, type TestBroker } from '../helpers/brokers.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { connectWire, sleep, type Wire } from '../helpers/wire.js';
import { figures, nextEvent, testAgent, waitUntil } from './scenario.js';

const ROUNDS = 4;

describe.each(brokerKinds())('late Last Will race on %s', (kind) => {
  let broker: TestBroker;
  let proxy: FaultProxy;
  let wire: Wire;
  let agent: Agent;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cp-will-'));
    broker = await startBrokerKind(kind);
    proxy = await startFaultProxy(broker.port);
    wire = await connectWire(broker.url);
    agent = testAgent({ broker: proxy.url, name: 'wr-1', stateDir: join(dir, 'wr-1') });
    await agent.start();
  });
  afterAll(async () => {
    await agent?.stop();
    await wire?.close();
    await proxy?.close();
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a Will of an old connection published after the new one came online leaves the host online', async () => {
    const statuses = () => wire.messages.filter((m) => m.topic === 'conplyent/wr-1/status').map((m) => m.json);
    const recoverMs: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const online = nextEvent(agent, 'online', 10_000);
      const cutAt = Date.now();
      proxy.cutClientSide();
      recoverMs.push((await online) - cutAt);
    }
    await sleep(300); // the last online (and any takeover Will) reaches the observer
    const takeoverWills = statuses().filter((s) => !s.online && s.reason === 'will');
    // A Will that arrived after an online of a newer connection: the race itself, seen on the wire.
    const lateTakeoverWills = takeoverWills.filter((w) => statuses().slice(0, statuses().indexOf(w)).some((s) => s.online && s.conn > w.conn)).length;

    // Takeover ends the old connection at the new CONNECT, so its Will lands before the new online.
    // A Will the broker publishes later (its keepalive expiring an old link it still held) is made
    // real here: a connection carrying the agent's previous incarnation's Will goes silent through
    // a second proxy, and the broker itself expires it and publishes that Will.
    const current = statuses().filter((s) => s.online).at(-1);
    const oldWill = { ...current, online: false, conn: current.conn - 1, since: null, reason: 'will', facts: undefined, commands: [] };
    const ghostProxy = await startFaultProxy(broker.port);
    const ghost = mqtt.connect(ghostProxy.url, {
      clientId: 'ghost-of-wr-1',
      keepalive: 1,
      reconnectPeriod: 0,
      will: { topic: 'conplyent/wr-1/status', payload: Buffer.from(JSON.stringify(oldWill)), qos: 1, retain: true },
    });
    ghost.on('error', () => {});
    await new Promise<void>((resolve) => ghost.once('connect', () => resolve()));
    const n = wire.messages.length;
    ghostProxy.blackhole();
    const willAt = (await wire.waitFor((m) => wire.messages.indexOf(m) >= n && m.topic === 'conplyent/wr-1/status' && m.json.online === false, 10_000, 'the late Will')).json;
    const repaired = await wire.waitFor((m) => wire.messages.indexOf(m) >= n && m.topic === 'conplyent/wr-1/status' && m.json.online === true, 5_000, 'online again');
    ghost.end(true);
    await ghostProxy.close();

    // Whatever the order was, the host must end online: ask as a late subscriber and as a controller.
    const late = await connectWire(broker.url);
    const retained = await late.waitFor((m) => m.topic === 'conplyent/wr-1/status', 5_000, 'the retained status');
    await late.close();
    const fleet = await connect(broker.url);
    await waitUntil(() => fleet.host('wr-1')?.online === true, 5_000, 'the controller to show wr-1 online');
    const view = fleet.host('wr-1')!;
    await fleet.close();

    figures(`late-will/${kind}`, {
      takeovers: ROUNDS,
      takeoverWills: takeoverWills.length,
      lateTakeoverWills,
      lateWillConn: willAt.conn,
      repairedConn: repaired.json.conn,
      endedOnline: retained.json.online,
      reconnectMs: recoverMs.join('/'),
    });
    expect(willAt).toMatchObject({ boot: agent.boot, conn: current.conn - 1 });
    expect(retained.json).toMatchObject({ online: true, boot: agent.boot, conn: current.conn });
    expect(view).toMatchObject({ online: true, boot: agent.boot, conn: current.conn });
  });
});
