// Fan-out: one broadcast `ping` on the fleet topic to N agents (real MQTT connections, spread over a
// few processes) until every result is in, beside N raw clients echoing one broadcast publish.
import { join } from 'node:path';
import { banner } from '../lib/report.js';
import { availableKinds, ENGINE_NAMES, startBench, type BrokerKind } from '../lib/brokers.js';
import { EchoSender, fleetWith } from '../lib/clients.js';
import { nowMs, p50, within } from '../lib/stats.js';
import { startAgents, startEchoes, stopAll, type WorkerHandle } from '../lib/workers.js';
import { ECHO_PAYLOAD, type Ctx } from './context.js';

/** Agent processes: enough to use both cores, few enough that 1000 agents fit in sane memory. */
const PROCS = 4;

export async function fanout(ctx: Ctx): Promise<void> {
  banner('fanout');
  // Both brokers: whether a miss is conplyent's or the broker's shows in the difference.
  // The clusters at N=10 only: agents on node 1, the controller on node 2.
  for (const kind of availableKinds(ctx.report, 'fanout')) await fanoutOn(ctx, kind);
}

async function fanoutOn(ctx: Ctx, kind: BrokerKind): Promise<void> {
  const sizes = kind === 'nats' || kind === 'redis' ? [10] : ctx.quick ? [10, 100] : [10, 100, 1000];
  const runs = ctx.quick ? 5 : 10;
  const broker = await startBench(kind);
  let agents: WorkerHandle[] = [];
  let echoes: WorkerHandle[] = [];
  try {
    let started = 0;
    for (const n of sizes) {
      // Grow the fleet in place: agents 0..n-1 are the fleet for this N.
      const names = Array.from({ length: n - started }, (_, i) => `fan-${String(started + i).padStart(4, '0')}`);
      const t = nowMs();
      agents.push(...(await startAgents(broker.url, names, join(ctx.tmp, `fanout-${kind}`), Math.min(PROCS, names.length))));
      const startMs = nowMs() - t;
      echoes.push(...(await startEchoes(broker.url, n - started, 'bench/fan', Math.min(PROCS, n - started))));
      started = n;

      const fleet = await fleetWith(broker.controllerUrl, n);
      const echo = await EchoSender.open(broker.controllerUrl, 'bench/fan');
      const ctl: number[] = [];
      const raw: number[] = [];
      // One untimed round of each warms the paths (JIT, job files).
      await broadcast(fleet, n);
      await echo.round(n, ECHO_PAYLOAD);
      for (let i = 0; i < runs; i++) {
        let t0 = nowMs();
        await echo.round(n, ECHO_PAYLOAD);
        raw.push(nowMs() - t0);
        t0 = nowMs();
        await broadcast(fleet, n);
        ctl.push(nowMs() - t0);
      }
      const c = p50(ctl);
      const r = p50(raw);
      ctx.report.add('fanout', {
        case: `${ENGINE_NAMES[kind]} N=${n} all results in, p50`,
        figure: c,
        unit: 'ms',
        baselineName: 'raw broadcast echo',
        baseline: r,
        runs,
        target: n === 1000 ? '≤ 1.5× raw and < 1 s' : '≤ 1.5× raw',
        met: c <= 1.5 * r && (n < 1000 || c < 1000),
        note: `${(c / n).toFixed(3)} ms/host (raw ${(r / n).toFixed(3)}); ${n} agents came online in ${(startMs / 1000).toFixed(1)} s`,
      });
      await Promise.all([fleet.close(), echo.close()]);
    }
  } finally {
    await stopAll([...agents, ...echoes]);
    agents = [];
    echoes = [];
    await broker.stop();
  }
}

async function broadcast(fleet: Awaited<ReturnType<typeof fleetWith>>, n: number): Promise<void> {
  const job = fleet.run('all', 'ping', [], { waitMs: 30_000 });
  const results = await within(job.done(), 35_000, `broadcast ping to ${n} agents`);
  const ok = results.filter((r) => r.state === 'ok').length;
  if (ok !== n) throw new Error(`broadcast ping: ${ok}/${n} ok (${results.find((r) => r.state !== 'ok')?.state})`);
}
