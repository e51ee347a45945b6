// Failover: an agent given every node of a cluster (its own node first), a controller on another
// node; SIGKILL the agent's node and time (1) until the controller sees the agent online again with
// a new connection number [cp-conn-7] and (2) until a `ping` published right after the kill has its
// result. Baseline: a raw mqtt.js client given the same node list (its `servers` option, reconnect
// period 500 ms = the agent's minimum backoff), from the kill to its next CONNACK. On the NATS
// cluster and on two embedded brokers sharing Redis; each run starts a fresh cluster.
import { join } from 'node:path';
import mqtt from 'mqtt';
import { availableKinds, ENGINE_NAMES, startBench, type BrokerKind } from '../lib/brokers.js';
import { fleetWith } from '../lib/clients.js';
import { banner } from '../lib/report.js';
import { nowMs, p50, percentile, sleep, within } from '../lib/stats.js';
import { startAgents, stopAll } from '../lib/workers.js';
import type { Ctx } from './context.js';

const HOST = 'fo-1';
/** "At most a few seconds of reachability" (issue 16): the goal for the agent's return. */
const GOAL_MS = 5_000;

export async function failover(ctx: Ctx): Promise<void> {
  banner('failover');
  const runs = ctx.quick ? 1 : 3;
  for (const kind of availableKinds(ctx.report, 'failover', ['nats', 'redis'])) {
    const online: number[] = [];
    const ping: number[] = [];
    const raw: number[] = [];
    for (let i = 0; i < runs; i++) {
      const r = await once(ctx, kind, i);
      online.push(r.online);
      ping.push(r.ping);
      raw.push(r.raw);
    }
    const spread = (xs: number[]) => `${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)} ms`;
    ctx.report.add('failover', {
      case: `${ENGINE_NAMES[kind]}: agent's node killed → agent online via another node, p50`,
      figure: p50(online),
      unit: 'ms',
      baselineName: 'raw mqtt.js client with the node list: kill → CONNACK',
      baseline: p50(raw),
      target: `≤ ${GOAL_MS / 1000} s`,
      met: p50(online) <= GOAL_MS,
      runs,
      note: `spread ${spread(online)} (raw ${spread(raw)})`,
    });
    ctx.report.add('failover', {
      case: `${ENGINE_NAMES[kind]}: ping published right after the kill → its result, p50`,
      figure: p50(ping),
      unit: 'ms',
      runs,
      note: `spread ${spread(ping)}; max ${percentile(ping, 100).toFixed(0)} ms`,
    });
  }
}

async function once(ctx: Ctx, kind: BrokerKind, run: number): Promise<{ online: number; ping: number; raw: number }> {
  const broker = await startBench(kind);
  const agents = await startAgents(broker.nodes.join(','), [HOST], join(ctx.tmp, `failover-${kind}-${run}`), 1);
  const first = new URL(broker.nodes[0]!);
  const servers = broker.nodes.map((u) => ({ host: new URL(u).hostname, port: Number(new URL(u).port) }));
  const rawc = mqtt.connect({ host: first.hostname, port: Number(first.port), servers, clientId: `fo-raw-${run}`, protocolVersion: 4, reconnectPeriod: 500, keepalive: 600, clean: true });
  rawc.on('error', () => {});
  try {
    await within(new Promise((r) => rawc.once('connect', r)), 10_000, 'raw client connect');
    const fleet = await fleetWith(broker.controllerUrl, 1);
    try {
      const conn0 = fleet.hosts().find((h) => h.name === HOST)!.conn;
      const rawBack = new Promise<number>((r) => rawc.once('connect', () => r(nowMs())));
      const t0 = nowMs();
      await broker.killAgentNode!();
      const job = fleet.run(HOST, 'ping', [], { waitMs: 30_000 });
      const pinged = job.done().then((rs) => {
        if (rs[0]?.state !== 'ok') throw new Error(`ping after the kill: ${rs[0]?.state} ${rs[0]?.error?.message ?? ''}`);
        return nowMs();
      });
      let online = NaN;
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        const h = fleet.hosts().find((x) => x.name === HOST);
        if (h?.online && h.conn > conn0) {
          online = nowMs() - t0;
          break;
        }
        await sleep(10);
      }
      if (Number.isNaN(online)) throw new Error(`${HOST} not online again within 30 s of the kill`);
      const ping = (await within(pinged, 35_000, 'ping after the kill')) - t0;
      const raw = (await within(rawBack, 30_000, 'raw client reconnect')) - t0;
      return { online, ping, raw };
    } finally {
      await fleet.close();
    }
  } finally {
    rawc.end(true);
    await stopAll(agents);
    await broker.stop();
  }
}
