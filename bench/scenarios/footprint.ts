// Footprint: agent memory idle and after 1,000 and 2,000 commands (growth between the two is what a
// leak looks like), broker memory per connected agent at 1,000 agents, and agent start → online.
import { join } from 'node:path';
import { decodePresence, parseTopic, topics } from '../../protocol/index.js';
import { banner } from '../lib/report.js';
import { startBench } from '../lib/brokers.js';
import { fleetWith, rawClient } from '../lib/clients.js';
import type { WorkerSpec } from '../worker.js';
import { p50, sleep, within } from '../lib/stats.js';
import { startAgents, startEchoes, startWorker, stopAll } from '../lib/workers.js';
import type { Fleet } from '../../controller/index.js';
import type { Ctx } from './context.js';

const MiB = 1024 * 1024;

export async function footprint(ctx: Ctx): Promise<void> {
  banner('footprint');
  await agentMemory(ctx);
  await brokerPerAgent(ctx, ctx.quick ? 200 : 1000);
  await startToOnline(ctx, ctx.quick ? 3 : 7);
}

/**
 * Half ping, half `exec true`, ten in flight: every job leaves a job log, a seen id and a state file
 * behind. Returns the id of the last job.
 */
async function commands(fleet: Fleet, hosts: string[], count: number): Promise<string> {
  let last = '';
  for (let i = 0; i < count; i += 10) {
    const batch = Array.from({ length: 10 }, (_, k) =>
      hosts.map((h) => {
        const job = (i + k) % 2 ? fleet.run(h, 'ping') : fleet.run(h, 'exec', ['true']);
        last = job.id;
        return job.done();
      }),
    );
    await within(Promise.all(batch.flat()), 30_000, 'a batch of 10 commands');
  }
  return last;
}

/**
 * Waits until the agent's 30 s sweeper has dropped finished jobs: seen from outside as `replay` of
 * the last job answering UNKNOWN_JOB. Timers drift on a loaded machine, so we ask rather than predict.
 */
async function swept(fleet: Fleet, host: string, jobId: string): Promise<void> {
  const deadline = Date.now() + 40_000;
  while (Date.now() < deadline) {
    const [r] = await fleet.run(host, 'replay', [jobId, 0], { waitMs: 10_000, keepOutput: false }).done();
    if (r?.error?.code === 'UNKNOWN_JOB') return;
    await sleep(1_000);
  }
  throw new Error(`${host} still keeps job ${jobId} 40 s after it ended`);
}

async function agentMemory(ctx: Ctx): Promise<void> {
  const broker = await startBench('aedes');
  const [agent] = await startAgents(broker.url, ['fp-1'], join(ctx.tmp, 'fp'), 1);
  // The same agent with a 1 s replay retention: once its sweeper ran, what is left is what leaks.
  const [short] = await startAgents(broker.url, ['fp-2'], join(ctx.tmp, 'fp'), 1, { replayRetentionMs: 1000 });
  // Baseline: a node process holding one connected mqtt.js client with three subscriptions, nothing else.
  const [bare] = await startEchoes(broker.url, 1, 'bench/fp', 1, 3);
  // The same with mqtt-packet's number table off, as link/packet-cache.ts runs every agent.
  const [lean] = await startEchoes(broker.url, 1, 'bench/fp-lean', 1, 3, true);
  const fleet = await fleetWith(broker.url, 2);
  const mib = (b: number) => b / MiB;
  try {
    await sleep(500);
    const idle = await agent.rss();
    const bareRss = (await bare.rss()).rss;
    ctx.report.add('footprint', { case: 'agent RSS idle', figure: mib(idle.rss), unit: 'MiB', baselineName: 'node + one mqtt.js client', baseline: mib(bareRss), target: '≤ 1.05×', met: idle.rss <= 1.05 * bareRss, runs: 1, note: `heap ${mib(idle.heapUsed).toFixed(1)} MiB` });
    const leanRss = (await lean.rss()).rss;
    ctx.report.add('footprint', { case: 'agent RSS idle, beside a client without the number table', figure: mib(idle.rss), unit: 'MiB', baselineName: 'node + one mqtt.js client, cacheNumbers off', baseline: mib(leanRss), runs: 1, note: 'the agent turns mqtt-packet\'s 65,536-Buffer table off (link/packet-cache.ts); a default mqtt.js client builds it' });
    const batch = ctx.quick ? 200 : 1000;
    // Warm the short-retention agent (JIT, maps grown to size: a soak showed the first ~2,000 commands
    // still settling), then take its swept heap as the reference.
    const warmId = await commands(fleet, ['fp-2'], ctx.quick ? 200 : 1500);
    if (!ctx.quick) await swept(fleet, 'fp-2', warmId);
    const ref = await short.rss();
    const after: { rss: number; heapUsed: number }[] = [];
    let lastId = '';
    for (let round = 0; round < 2; round++) {
      lastId = await commands(fleet, ['fp-1', 'fp-2'], batch);
      after.push(await agent.rss());
    }
    ctx.report.add('footprint', { case: `agent RSS after ${batch} commands`, figure: mib(after[0].rss), unit: 'MiB', baselineName: 'same agent idle', baseline: mib(idle.rss), runs: batch, note: `heap ${mib(after[0].heapUsed).toFixed(1)} MiB` });
    ctx.report.add('footprint', {
      case: `agent RSS after ${2 * batch} commands`,
      figure: mib(after[1].rss),
      unit: 'MiB',
      baselineName: `after ${batch}`,
      baseline: mib(after[0].rss),
      runs: 2 * batch,
      note: `heap ${mib(after[1].heapUsed).toFixed(1)} MiB, +${mib(after[1].heapUsed - after[0].heapUsed).toFixed(1)} over the second ${batch}: finished jobs are kept for replay (default 10 min)`,
    });
    if (!ctx.quick) {
      await swept(fleet, 'fp-2', lastId);
      const sweptMem = await short.rss();
      const grew = mib(sweptMem.heapUsed - ref.heapUsed);
      ctx.report.add('footprint', {
        case: `agent heap after ${2 * batch} more commands, swept (replay retention 1 s)`,
        figure: mib(sweptMem.heapUsed),
        unit: 'MiB',
        baselineName: 'same agent warmed and swept',
        baseline: mib(ref.heapUsed),
        runs: 2 * batch,
        target: 'no growth beyond noise (< 1 MiB per 2,000)',
        met: grew < 1,
        note: `heap grew ${grew.toFixed(2)} MiB; RSS ${mib(sweptMem.rss).toFixed(1)} MiB (warmed ${mib(ref.rss).toFixed(1)})`,
      });
    }
  } finally {
    await fleet.close();
    await stopAll([agent, short, bare, lean]);
    await broker.stop();
  }
}

async function brokerPerAgent(ctx: Ctx, n: number): Promise<void> {
  const measure = async (withAgents: boolean) => {
    const broker = await startBench('aedes');
    try {
      await sleep(300);
      const before = await broker.rss();
      const names = Array.from({ length: n }, (_, i) => `mem-${String(i).padStart(4, '0')}`);
      // Baseline clients get the same three subscriptions an agent makes, but no Will, no retained status, no session.
      const ws = withAgents ? await startAgents(broker.url, names, join(ctx.tmp, 'mem'), 4) : await startEchoes(broker.url, n, 'bench/mem', 4, 3);
      await sleep(1000);
      const after = await broker.rss();
      await stopAll(ws);
      return (after - before) / n;
    } finally {
      await broker.stop();
    }
  };
  const perAgent = await measure(true);
  const perRaw = await measure(false);
  ctx.report.add('footprint', {
    case: `aedes RSS per connected agent at ${n} agents`,
    figure: perAgent / 1024,
    unit: 'KiB',
    baselineName: 'per raw client (3 subscriptions, clean session)',
    baseline: perRaw / 1024,
    runs: 1,
    note: 'broker RSS after GC, minus the idle broker, divided by N',
  });
}

async function startToOnline(ctx: Ctx, starts: number): Promise<void> {
  const broker = await startBench('aedes');
  const observer = await rawClient(broker.url);
  const seen = new Map<string, number>();
  observer.on('message', (topic, payload) => {
    const t = parseTopic(topic);
    const p = decodePresence(payload);
    if (t?.kind === 'status' && p?.online && !seen.has(t.host)) seen.set(t.host, performance.timeOrigin + performance.now());
  });
  await observer.subscribeAsync(topics.allStatus(), { qos: 1 });
  const fromStart: number[] = [];
  const fromSpawn: number[] = [];
  const rawStart: number[] = [];
  const rawSpawn: number[] = [];
  // Agent and baseline alike: a fresh process, timed from after its imports (start) and from its birth (spawn).
  const once = async (name: string, spec: WorkerSpec, start: number[], spawned: number[]) => {
    const w = await startWorker(spec);
    const deadline = Date.now() + 10_000;
    while (!seen.has(name) && Date.now() < deadline) await sleep(2);
    const at = seen.get(name);
    await w.stop();
    if (at === undefined) throw new Error(`presence of ${name} never seen`);
    start.push(at - w.ready.startCalledAt);
    spawned.push(at - w.ready.spawnedAt);
  };
  try {
    for (let i = 0; i < starts; i++) {
      await once(`boot-${i}`, { kind: 'agents', url: broker.url, names: [`boot-${i}`], stateRoot: join(ctx.tmp, 'boot'), keepaliveSec: 600, concurrency: 1 }, fromStart, fromSpawn);
      await once(`rawboot-${i}`, { kind: 'presence', url: broker.url, name: `rawboot-${i}` }, rawStart, rawSpawn);
    }
    const base = { unit: 'ms', runs: starts };
    ctx.report.add('footprint', { case: 'createAgent() + start() → presence seen, p50', figure: p50(fromStart), baselineName: 'cold process: mqtt.connect + retained publish', baseline: p50(rawStart), ...base, note: 'fresh process and state dir each start, timed after imports' });
    ctx.report.add('footprint', { case: 'agent process spawn → presence seen, p50', figure: p50(fromSpawn), baselineName: 'same for the plain client process', baseline: p50(rawSpawn), ...base, note: 'includes node start and module loading' });
  } finally {
    await observer.endAsync();
    await broker.stop();
  }
}
