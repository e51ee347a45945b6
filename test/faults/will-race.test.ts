// The late Will race (what Sparkplug's bdSeq exists for), through the proxy. The agent's side of its
// connection is reset while the broker's side stays open and silent (the broker still holds the old connection).
// The agent reconnects at once; the broker ends the old connection by takeover and publishes that
// connection's Will, possibly after the new "online". The retained status must end online, and a
// controller must show the host online.
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { connect } from '../../controller/index.js';
import { clusterKinds } from '../helpers/brokers.js';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import { connectWire, sleep } from '../helpers/wire.js';
import { figures, nextEvent, proxiedAgent, waitUntil } from './scenario.js';

const ROUNDS = 4;

describe.each(clusterKinds())('late Last Will race on %s', (kind) => {
  const t = proxiedAgent(kind, 'wr-1');

  /** A connection through its own proxy carrying `will` for wr-1's status, keepalive 1 s: blackhole the proxy and the broker publishes the Will. */
  async function ghostWithWill(clientId: string, will: object) {
    const ghostProxy = await startFaultProxy(t.broker.port);
    const ghost = mqtt.connect(ghostProxy.url, {
      clientId,
      keepalive: 1,
      reconnectPeriod: 0,
      will: { topic: 'conplyent/wr-1/status', payload: Buffer.from(JSON.stringify(will)), qos: 1, retain: true },
    });
    ghost.on('error', () => {});
    await new Promise<void>((resolve) => ghost.once('connect', () => resolve()));
    return { ghost, ghostProxy };
  }

  it('a Will of an old connection published after the new one came online leaves the host online', async () => {
    const statuses = () => t.wire.messages.filter((m) => m.topic === 'conplyent/wr-1/status').map((m) => m.json);
    const recoverMs: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const online = nextEvent(t.agent, 'online', 10_000);
      const cutAt = Date.now();
      t.proxy.cutClientSide();
      recoverMs.push((await online) - cutAt);
    }
    await sleep(300); // the last online (and any takeover Will) reaches the observer
    const takeoverWills = statuses().filter((s) => !s.online && s.reason === 'will');
    // A Will that arrived after an online of a newer connection: the race itself, seen on the wire.
    const lateTakeoverWills = takeoverWills.filter((w) => statuses().slice(0, statuses().indexOf(w)).some((s) => s.online && s.conn > w.conn)).length;

    // Takeover ends the old connection at the new CONNECT, so its Will lands before the new online.
    // A Will the broker publishes later (its keepalive expiring an old link it still held) is made
    // real here: a connection carrying the agent's previous incarnation's Will goes silent through
    // a second t.proxy, and the broker itself expires it and publishes that Will.
    const current = statuses().filter((s) => s.online).at(-1);
    const oldWill = { ...current, online: false, conn: current.conn - 1, since: null, reason: 'will', facts: undefined, commands: [] };
    const { ghost, ghostProxy } = await ghostWithWill('ghost-of-wr-1', oldWill);
    const n = t.wire.messages.length;
    ghostProxy.blackhole();
    const willAt = (await t.wire.waitFor((m) => t.wire.messages.indexOf(m) >= n && m.topic === 'conplyent/wr-1/status' && m.json.online === false, 10_000, 'the late Will')).json;
    const repaired = await t.wire.waitFor((m) => t.wire.messages.indexOf(m) >= n && m.topic === 'conplyent/wr-1/status' && m.json.online === true, 5_000, 'online again');
    ghost.end(true);
    await ghostProxy.close();

    // Whatever the order was, the host must end online: ask as a late subscriber and as a controller.
    const late = await connectWire(t.broker.controllerUrl);
    const retained = await late.waitFor((m) => m.topic === 'conplyent/wr-1/status', 5_000, 'the retained status');
    await late.close();
    const fleet = await connect(t.broker.controllerUrl);
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
    expect(willAt).toMatchObject({ boot: t.agent.boot, conn: current.conn - 1 });
    expect(retained.json).toMatchObject({ online: true, boot: t.agent.boot, conn: current.conn });
    expect(view).toMatchObject({ online: true, boot: t.agent.boot, conn: current.conn });
  });

  it('[cp-presence-4] a Will of the current connection published while it lives (a cluster node presumed dead) is repaired at once', async () => {
    // A cluster broker publishes the Wills of every client of a node it believes dead, live ones
    // included (aedes _clearWills). Made real: a silent connection carries the agent's current
    // incarnation's Will, and the broker expires it and publishes that Will.
    await t.wire.waitFor((m) => m.topic === 'conplyent/wr-1/status' && m.json.online === true, 10_000, 'the agent online');
    const current = t.wire.messages.filter((m) => m.topic === 'conplyent/wr-1/status' && m.json.online).at(-1)!.json;
    const ownWill = { ...current, online: false, since: null, reason: 'will', facts: undefined, commands: [] };
    const { ghost, ghostProxy } = await ghostWithWill('ghost-now-of-wr-1', ownWill);
    const n = t.wire.messages.length;
    const after = (m: { topic: string }) => t.wire.messages.indexOf(m as never) >= n && m.topic === 'conplyent/wr-1/status';
    ghostProxy.blackhole();
    try {
      const will = (await t.wire.waitFor((m) => after(m) && m.json.online === false, 10_000, 'our own Will')).json;
      expect(will).toMatchObject({ boot: current.boot, conn: current.conn, reason: 'will' });
      const repaired = (await t.wire.waitFor((m) => after(m) && m.json.online === true, 5_000, 'online again')).json;
      expect(repaired).toMatchObject({ boot: current.boot, conn: current.conn, since: current.since });
    } finally {
      ghost.end(true);
      await ghostProxy.close();
    }
  });
});
