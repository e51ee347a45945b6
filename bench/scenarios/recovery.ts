// Recovery: links cut under an agent through the fault-injecting proxy of test/helpers.
//  - cut → online again: both sides of the link reset; time until the agent's new "online" presence
//    is seen, beside a plain mqtt.js client (reconnectPeriod = the agent's minimum backoff) reconnecting.
//  - queued command: a ping published while the agent's link is dead (persistent session, QoS 1);
//    time from the network healing to its result, beside a raw QoS 1 message queued for a raw client.
import { join } from 'node:path';
import mqtt from 'mqtt';
import { nanoid } from 'nanoid';
import { agentSettingsSchema } from '../../agent/options.js';
import { defaultOf } from '../../link/settings.js';
import { startFaultProxy, type FaultProxy } from '../../test/helpers/fault-proxy.js';
import { decodePresence, parseTopic, topics } from '../../protocol/index.js';
import { banner } from '../lib/report.js';
import { startBench } from '../lib/brokers.js';
import { WireClient, rawClient } from '../lib/clients.js';
import { nowMs, p50, sleep, within } from '../lib/stats.js';
import { startAgents, stopAll } from '../lib/workers.js';
import type { Ctx } from './context.js';

const RECONNECT_MIN_MS = defaultOf(agentSettingsSchema, 'reconnectMinMs') as number;

export async function recovery(ctx: Ctx): Promise<void> {
  banner('recovery');
  const runs = ctx.quick ? 3 : 7;
  const broker = await startBench('aedes');
  const port = Number(new URL(broker.url).port);
  const agentProxy = await startFaultProxy(port);
  const rawProxy = await startFaultProxy(port);
  const agents = await startAgents(agentProxy.url, ['rec-1'], join(ctx.tmp, 'rec'), 1, { keepaliveSec: 5, reconnectMinMs: RECONNECT_MIN_MS });
  // Presence as a controller sees it: the newest online incarnation of rec-1.
  const observer = await rawClient(broker.url);
  let online = { conn: 0, at: 0 };
  observer.on('message', (topic, payload) => {
    const p = decodePresence(payload);
    if (parseTopic(topic)?.kind === 'status' && p?.online && p.conn > online.conn) online = { conn: p.conn, at: nowMs() };
  });
  await observer.subscribeAsync(topics.status('rec-1'), { qos: 1 });
  const wire = await WireClient.open(broker.url, 'rec-1');
  // The raw baseline: a persistent-session client behind its own proxy, subscribed with QoS 1.
  const rawId = `rec-raw-${nanoid(6)}`;
  const raw = mqtt.connect(rawProxy.url, { clientId: rawId, clean: false, protocolVersion: 4, keepalive: 5, reconnectPeriod: RECONNECT_MIN_MS });
  raw.on('connect', () => (raw.stream as { setNoDelay?: (v: boolean) => void } | undefined)?.setNoDelay?.(true));
  raw.on('error', () => {});
  await within(new Promise((r) => raw.once('connect', r)), 10_000, 'raw client connect');
  await raw.subscribeAsync('bench/rec', { qos: 1 });
  const sender = await rawClient(broker.url);
  const cutAg: number[] = [];
  const cutRaw: number[] = [];
  const qAg: number[] = [];
  const qRaw: number[] = [];
  try {
    await within(waitFor(() => online.conn > 0), 10_000, 'rec-1 online');
    for (let i = 0; i < runs; i++) {
      // Cut → online again.
      let before = online.conn;
      let t0 = nowMs();
      agentProxy.cut();
      await within(waitFor(() => online.conn > before), 15_000, 'agent back online after a cut');
      cutAg.push(online.at - t0);
      t0 = nowMs();
      const back = new Promise<number>((r) => raw.once('connect', () => r(nowMs())));
      rawProxy.cut();
      cutRaw.push((await within(back, 15_000, 'raw client reconnect')) - t0);

      // A command queued while the link is dead, run when it heals.
      before = online.conn;
      await deadLink(agentProxy);
      const result = wire.run('rec-1', 'ping');
      await sleep(300); // the broker has queued it for the offline session
      t0 = nowMs();
      agentProxy.heal();
      await within(result, 20_000, 'queued ping result');
      qAg.push(nowMs() - t0);
      await within(waitFor(() => online.conn > before), 15_000, 'agent online after heal');

      await deadLink(rawProxy);
      const got = new Promise<number>((r) => raw.once('message', () => r(nowMs())));
      await sender.publishAsync('bench/rec', 'queued', { qos: 1 });
      await sleep(300);
      t0 = nowMs();
      rawProxy.heal();
      qRaw.push((await within(got, 20_000, 'queued raw message')) - t0);
      await within(waitFor(() => raw.connected), 10_000, 'raw client connected');
    }
    const base = { unit: 'ms', runs };
    ctx.report.add('recovery', { case: 'link cut → agent online again, p50', figure: p50(cutAg), baselineName: `raw mqtt.js reconnect (period ${RECONNECT_MIN_MS} ms)`, baseline: p50(cutRaw), ...base, note: `agent: jittered backoff from ${RECONNECT_MIN_MS} ms, then subscribe + presence` });
    ctx.report.add('recovery', { case: 'command queued during an outage: heal → result, p50', figure: p50(qAg), baselineName: 'raw QoS 1 message queued for a persistent session', baseline: p50(qRaw), ...base });
  } finally {
    raw.end(true);
    await Promise.all([wire.close(), observer.endAsync(), sender.endAsync()]);
    await stopAll(agents);
    await Promise.all([agentProxy.close(), rawProxy.close()]);
    await broker.stop();
  }
}

/** Cuts the current link and holds new attempts unanswered (the network is down) until heal(). */
async function deadLink(p: FaultProxy): Promise<void> {
  p.blackhole();
  p.cut();
  await sleep(50);
}

async function waitFor(cond: () => boolean): Promise<void> {
  while (!cond()) await sleep(2);
}
