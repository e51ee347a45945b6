// Cold start of the `conplyent` command (the bundled bin) per verb, beside `node -e 0` on the same machine in the same
// run: what each verb costs to load before it does anything, and a whole `exec host -- true`.
// Runs are interleaved (baseline, then each case) so a load spike hits them all alike. Besides the
// wall time, each process reports the CPU time it used (user + system, from a preload that prints
// process.cpuUsage() at exit): on a loaded machine the wall time mostly measures the neighbours.
// The compile cache (cli/compile-cache.ts, Node ≥ 22.1) lives in this run's own cache home, filled
// by the untimed first run of each case; on such a Node `exec` is also timed with the cache off.
import { execFile } from 'node:child_process';
import * as mod from 'node:module';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startBench } from '../lib/brokers.js';
import { banner } from '../lib/report.js';
import { nowMs, p50, percentile } from '../lib/stats.js';
import { startAgents, stopAll } from '../lib/workers.js';
import type { Ctx } from './context.js';

const run = promisify(execFile);
/** The installed command (package.json "bin"): cli/bin.ts bundled by cli/bundle.mjs. */
const CLI = fileURLToPath(new URL('../../bin/bin.js', import.meta.url));
/** The same entry as tsc built it, one module per file: what the bundle saves. */
const UNBUNDLED = fileURLToPath(new URL('../../cli/main.js', import.meta.url));
const CPU_MARK = 'CONPLYENT_BENCH_CPU_MS ';

interface Case {
  name: string;
  args: string[];
  target: number;
  env?: Record<string, string>;
}

interface Sample {
  wall: number;
  cpu: number;
}

export async function startup(ctx: Ctx): Promise<void> {
  banner('startup');
  const broker = await startBench('aedes');
  const agents = await startAgents(broker.url, ['start-1'], join(ctx.tmp, 'startup-agents'), 1);
  // A CommonJS preload is the cheapest hook Node has: both sides pay it alike.
  const preload = join(ctx.tmp, 'cpu-at-exit.cjs');
  writeFileSync(preload, `process.on('exit', () => { const u = process.cpuUsage(); process.stderr.write('\\n${CPU_MARK}' + (u.user + u.system) / 1000 + '\\n'); });\n`);
  // Its own cache home (compile cache) and known-hosts file: a bench never writes the user's.
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', XDG_CACHE_HOME: join(ctx.tmp, 'cache'), CONPLYENT_KNOWN_HOSTS: join(ctx.tmp, 'known_hosts') };
  const cold = async (c: Pick<Case, 'args' | 'env'>): Promise<Sample> => {
    const t = nowMs();
    const r = await run(process.execPath, ['-r', preload, ...c.args], { timeout: 30_000, env: { ...env, ...c.env } });
    const wall = nowMs() - t;
    const line = r.stderr.split('\n').find((l) => l.startsWith(CPU_MARK));
    return { wall, cpu: line ? Number(line.slice(CPU_MARK.length)) : NaN };
  };
  try {
    const exec = [CLI, 'exec', 'start-1', '--broker', broker.url, '--', 'true'];
    const cases: Case[] = [
      { name: '`conplyent --version`', args: [CLI, '--version'], target: 1.3 },
      { name: '`conplyent --help`', args: [CLI, '--help'], target: 1.3 },
      { name: '`conplyent exec --help` (controller verb loaded)', args: [CLI, 'exec', '--help'], target: 2 },
      { name: '`conplyent agent --help` (agent verb loaded)', args: [CLI, 'agent', '--help'], target: 2 },
      { name: '`conplyent exec start-1 -- true` (whole command)', args: exec, target: 2.5 },
      { name: '`conplyent exec start-1 -- true`, unbundled dist/cli/main.js', args: [UNBUNDLED, ...exec.slice(1)], target: 2.5 },
    ];
    if (typeof (mod as { enableCompileCache?: unknown }).enableCompileCache === 'function') {
      cases.push({ name: '`conplyent exec start-1 -- true`, compile cache off', args: exec, target: 2.5, env: { NODE_DISABLE_COMPILE_CACHE: '1' } });
    }
    const runs = ctx.quick ? 3 : 11;
    const base: Sample[] = [];
    const samples = cases.map(() => [] as Sample[]);
    for (const c of cases) await cold(c); // page cache, compile cache
    for (let i = 0; i < runs; i++) {
      base.push(await cold({ args: ['-e', '0'] }));
      for (const [j, c] of cases.entries()) samples[j].push(await cold(c));
    }
    const wall = (s: Sample[]) => s.map((x) => x.wall);
    const cpu = (s: Sample[]) => s.map((x) => x.cpu);
    const b = p50(wall(base));
    const bc = p50(cpu(base));
    for (const [j, c] of cases.entries()) {
      const s = samples[j];
      const w = wall(s);
      ctx.report.add('startup', {
        case: `${c.name}, p50`,
        figure: p50(w),
        unit: 'ms',
        baselineName: '`node -e 0`',
        baseline: b,
        target: `≤ ${c.target}×`,
        met: p50(w) <= c.target * b,
        runs,
        note: `wall p10–p90 ${percentile(w, 10).toFixed(0)}–${percentile(w, 90).toFixed(0)} ms (baseline ${percentile(wall(base), 10).toFixed(0)}–${percentile(wall(base), 90).toFixed(0)})`,
      });
      const cp = cpu(s);
      ctx.report.add('startup', {
        case: `${c.name}, CPU time p50`,
        figure: p50(cp),
        unit: 'ms',
        baselineName: '`node -e 0` CPU time',
        baseline: bc,
        runs,
        note: `user + system; p10–p90 ${percentile(cp, 10).toFixed(0)}–${percentile(cp, 90).toFixed(0)} ms (baseline ${percentile(cpu(base), 10).toFixed(0)}–${percentile(cpu(base), 90).toFixed(0)})`,
      });
    }
  } finally {
    await stopAll(agents);
    await broker.stop();
  }
}
