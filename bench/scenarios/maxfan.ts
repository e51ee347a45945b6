// The largest fan-out these cores allow: one broadcast `ping` from the controller library to N lean
// simulated agents (bench/lib/lean-agent.ts: one MQTT connection each, no agent runtime), N growing
// until a step fails or passes its time budget, beside N raw clients echoing one broadcast. Each
// step reports what it used — broker RSS, the file descriptors of the broker process, CPU seconds of
// broker and workers — so the row that stops says which limit it met: fds, memory or CPU.
import { readdirSync, readFileSync } from 'node:fs';
import { banner } from '../lib/report.js';
import { availableKinds, ENGINE_NAMES, procRss, startBench, type BenchBroker, type BrokerKind } from '../lib/brokers.js';
import { EchoSender, fleetWith } from '../lib/clients.js';
import { nowMs, p50, within } from '../lib/stats.js';
import { startEchoes, startLeanAgents, stopAll, type WorkerHandle } from '../lib/workers.js';
import { ECHO_PAYLOAD, type Ctx } from './context.js';

/** Worker processes for the simulated agents: one per core and two more, so no single event loop is the limit. */
const PROCS = 4;
/** A step whose new agents take longer than this to come online fails: the machine is full. */
const STEP_BUDGET_MS = 120_000;
const MiB = 1024 * 1024;

export async function maxfan(ctx: Ctx): Promise<void> {
  banner('maxfan');
  const sizes = ctx.quick ? [200, 500] : [1000, 2500, 5000, 10000];
  for (const kind of availableKinds(ctx.report, 'maxfan', ['aedes', 'mosquitto'])) await grow(ctx, kind, sizes);
}

/** CPU seconds (user + system) a process has used so far, from /proc. */
function cpuSec(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

function fds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

async function grow(ctx: Ctx, kind: BrokerKind, sizes: number[]): Promise<void> {
  const broker: BenchBroker = await startBench(kind);
  const agents: WorkerHandle[] = [];
  const echoes: WorkerHandle[] = [];
  let started = 0;
  let largest = 0;
  try {
    for (const n of sizes) {
      const names = Array.from({ length: n - started }, (_, i) => `lean-${String(started + i).padStart(5, '0')}`);
      const t = nowMs();
      try {
        agents.push(...(await startLeanAgents(broker.url, names, PROCS, STEP_BUDGET_MS)));
        echoes.push(...(await startEchoes(broker.url, n - started, 'bench/maxfan', PROCS)));
      } catch (e) {
        ctx.report.skip('maxfan', `${ENGINE_NAMES[kind]} N=${n}: stopped growing (${(e as Error).message}); broker ${describeUse(broker)}`);
        break;
      }
      const onlineMs = nowMs() - t;
      started = n;
      const workerCpu0 = [...agents, ...echoes].reduce((s, w) => s + cpuSec(w.child.pid!), 0);
      const brokerCpu0 = cpuSec(broker.pid);
      const fleet = await fleetWith(broker.controllerUrl, n, STEP_BUDGET_MS);
      const echo = await EchoSender.open(broker.controllerUrl, 'bench/maxfan');
      const ctl: number[] = [];
      const raw: number[] = [];
      try {
        for (let i = 0; i < (ctx.quick ? 2 : 3); i++) {
          let t0 = nowMs();
          await echo.round(n, ECHO_PAYLOAD, 60_000);
          raw.push(nowMs() - t0);
          t0 = nowMs();
          const results = await within(fleet.run('all', 'ping', [], { waitMs: 60_000 }).done(), 65_000, `broadcast to ${n}`);
          const ok = results.filter((r) => r.state === 'ok').length;
          if (ok !== n) throw new Error(`${ok}/${n} ok`);
          ctl.push(nowMs() - t0);
        }
      } catch (e) {
        ctx.report.skip('maxfan', `${ENGINE_NAMES[kind]} N=${n}: broadcast failed (${(e as Error).message}); broker ${describeUse(broker)}`);
        await Promise.all([fleet.close(), echo.close()]);
        break;
      }
      await Promise.all([fleet.close(), echo.close()]);
      const workerCpu = [...agents, ...echoes].reduce((s, w) => s + cpuSec(w.child.pid!), 0) - workerCpu0;
      const brokerCpu = cpuSec(broker.pid) - brokerCpu0;
      largest = n;
      const c = p50(ctl);
      ctx.report.add('maxfan', {
        case: `${ENGINE_NAMES[kind]} N=${n} lean agents, all results in, p50`,
        figure: c,
        unit: 'ms',
        baselineName: 'raw broadcast echo',
        baseline: p50(raw),
        runs: ctl.length,
        note: `${(c / n).toFixed(3)} ms/host; online in ${(onlineMs / 1000).toFixed(1)} s; broker ${describeUse(broker)}; CPU during the broadcasts: broker ${brokerCpu.toFixed(1)} s, agents+echoes ${workerCpu.toFixed(1)} s`,
      });
    }
    ctx.report.add('maxfan', { case: `${ENGINE_NAMES[kind]}: largest N measured`, figure: largest, unit: 'hosts', runs: 1, note: `steps ${sizes.join(', ')}; fd limit ${fdLimit()}` });
  } finally {
    await stopAll([...agents, ...echoes]);
    await broker.stop();
  }
}

function describeUse(b: BenchBroker): string {
  try {
    return `RSS ${(procRss(b.pid) / MiB).toFixed(0)} MiB, ${fds(b.pid)} fds`;
  } catch {
    return 'gone';
  }
}

function fdLimit(): string {
  const m = /Max open files\s+(\d+)\s+(\d+)/.exec(readFileSync('/proc/self/limits', 'utf8'));
  return m ? `${m[1]} (hard ${m[2]})` : 'unknown';
}
