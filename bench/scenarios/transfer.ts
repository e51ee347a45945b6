// File transfer through the controller library, sha256 checked both ways. Two parts:
// - `put` of a random file to one host beside `get` of the same file back (aedes, Mosquitto): `get`
//   streams like command output, so it is the baseline a `put` should come close to.
// - 10 MB `put` and `get` on each clustered engine (agent on node 1, controller on node 2) beside
//   the same on one node of that engine: a NATS node for the NATS cluster, one embedded broker for
//   two sharing Redis. Goal: within 1.5× of the single node.
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { get, put } from '../../controller/index.js';
import { availableKinds, ENGINE_NAMES, startBench, type BenchBroker, type BrokerKind } from '../lib/brokers.js';
import { fleetWith } from '../lib/clients.js';
import { startNatsNode } from '../lib/nats.js';
import { banner } from '../lib/report.js';
import { nowMs, within } from '../lib/stats.js';
import { startAgents, stopAll } from '../lib/workers.js';
import type { Ctx } from './context.js';

const MB = 1024 * 1024;
const CLUSTER_MB = 10;

interface Times {
  /** Seconds per put / get run, in run order. */
  put: number[];
  get: number[];
}

export async function transfer(ctx: Ctx): Promise<void> {
  banner('transfer');
  const size = (ctx.quick ? 10 : 50) * MB;
  const tries = ctx.quick ? 1 : 3;
  for (const kind of availableKinds(ctx.report, 'transfer', ['aedes', 'mosquitto'])) {
    const t = await measure(ctx, () => startBench(kind), kind, size, tries);
    const mbps = (s: number) => size / MB / s;
    const p = t.put.map(mbps);
    const g = t.get.map(mbps);
    ctx.report.add('transfer', {
      case: `${kind}: put ${size / MB} MB to one host`,
      figure: Math.max(...p),
      unit: 'MB/s',
      baselineName: `get of the same file`,
      baseline: Math.max(...g),
      target: '≥ 0.8×',
      met: Math.max(...p) >= 0.8 * Math.max(...g),
      runs: p.length,
      note: `best of ${p.length}; put ${p.map((x) => x.toFixed(1)).join('/')}, get ${g.map((x) => x.toFixed(1)).join('/')} MB/s`,
    });
  }
  await clustered(ctx);
}

/** 10 MB on each cluster beside one node of the same engine, interleaved engine by engine. */
async function clustered(ctx: Ctx): Promise<void> {
  const size = CLUSTER_MB * MB;
  const tries = ctx.quick ? 1 : 2;
  const single: Partial<Record<BrokerKind, { name: string; start: () => Promise<BenchBroker> }>> = {
    nats: { name: 'one NATS node', start: singleNats },
    redis: { name: 'one embedded broker (aedes)', start: () => startBench('aedes') },
  };
  for (const kind of availableKinds(ctx.report, 'transfer', ['nats', 'redis'])) {
    const ref = single[kind]!;
    const one = await measure(ctx, ref.start, `${kind}-single`, size, tries);
    const many = await measure(ctx, () => startBench(kind), kind, size, tries);
    for (const op of ['put', 'get'] as const) {
      const best = Math.min(...many[op]);
      const base = Math.min(...one[op]);
      ctx.report.add('transfer', {
        case: `${ENGINE_NAMES[kind]}: ${op} ${CLUSTER_MB} MB, agent and controller on different nodes`,
        figure: best * 1000,
        unit: 'ms',
        baselineName: ref.name,
        baseline: base * 1000,
        target: '≤ 1.5×',
        met: best <= 1.5 * base,
        runs: many[op].length,
        note: `best of ${many[op].length}; cluster ${many[op].map((s) => s.toFixed(2)).join('/')} s, single ${one[op].map((s) => s.toFixed(2)).join('/')} s`,
      });
    }
  }
}

async function singleNats(): Promise<BenchBroker> {
  const n = await startNatsNode();
  return { kind: 'nats', url: n.url, controllerUrl: n.url, nodes: [n.url], pid: n.pid, rss: n.rss, stop: n.stop };
}

/** put then get of one random file, `tries` times interleaved; seconds per run. */
async function measure(ctx: Ctx, start: () => Promise<BenchBroker>, label: string, size: number, tries: number): Promise<Times> {
  const local = join(ctx.tmp, `transfer-src-${size}`);
  writeFileSync(local, randomBytes(size));
  const broker = await start();
  const agents = await startAgents(broker.url, ['xfer-1'], join(ctx.tmp, `transfer-${label}`), 1);
  const fleet = await fleetWith(broker.controllerUrl, 1);
  try {
    const remote = join(ctx.tmp, `transfer-remote-${label}`);
    const back = join(ctx.tmp, `transfer-back-${label}`);
    const timed = async (what: string, f: () => Promise<{ ok: boolean; error?: string }[] | { ok: boolean; error?: string }>) => {
      const t = nowMs();
      const r = [await within(f(), 180_000, `${what} on ${label}`)].flat();
      if (!r[0]?.ok) throw new Error(`${what} on ${label}: ${r[0]?.error ?? 'no result'}`);
      return (nowMs() - t) / 1000;
    };
    const out: Times = { put: [], get: [] };
    // Interleaved: the slower runs on a shared machine mostly measure the neighbours.
    for (let i = 0; i < tries; i++) {
      out.put.push(await timed('put', () => put(fleet, 'xfer-1', local, remote)));
      out.get.push(await timed('get', () => get(fleet, 'xfer-1', remote, back)));
      rmSync(back, { force: true });
    }
    return out;
  } finally {
    await fleet.close();
    await stopAll(agents);
    await broker.stop();
    rmSync(local, { force: true });
  }
}
