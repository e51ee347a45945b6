// Cold start of the `conplyent` binary per verb, beside `node -e 0` on the same machine in the same
// run: what each verb costs to load before it does anything, and a whole `exec host -- true`.
// Runs are interleaved (baseline, then each case) so a load spike hits them all alike.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startBench } from '../lib/brokers.js';
import { banner } from '../lib/report.js';
import { nowMs, p50, percentile } from '../lib/stats.js';
import { startAgents, stopAll } from '../lib/workers.js';
import type { Ctx } from './context.js';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../../cli/main.js', import.meta.url));

interface Case {
  name: string;
  args: string[];
  target: number;
}

async function coldMs(args: string[]): Promise<number> {
  const t = nowMs();
  await run(process.execPath, args, { timeout: 30_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' } });
  return nowMs() - t;
}

export async function startup(ctx: Ctx): Promise<void> {
  banner('startup');
  const broker = await startBench('aedes');
  const agents = await startAgents(broker.url, ['start-1'], join(ctx.tmp, 'startup-agents'), 1);
  try {
    const cases: Case[] = [
      { name: '`conplyent --version`', args: [CLI, '--version'], target: 1.3 },
      { name: '`conplyent --help`', args: [CLI, '--help'], target: 1.3 },
      { name: '`conplyent exec --help` (controller verb loaded)', args: [CLI, 'exec', '--help'], target: 2 },
      { name: '`conplyent agent --help` (agent verb loaded)', args: [CLI, 'agent', '--help'], target: 2 },
      { name: '`conplyent exec start-1 -- true` (whole command)', args: [CLI, 'exec', 'start-1', '--broker', broker.url, '--', 'true'], target: 2.5 },
    ];
    const runs = ctx.quick ? 3 : 11;
    const base: number[] = [];
    const samples = cases.map(() => [] as number[]);
    for (const c of cases) await coldMs(c.args); // page cache
    for (let i = 0; i < runs; i++) {
      base.push(await coldMs(['-e', '0']));
      for (const [j, c] of cases.entries()) samples[j].push(await coldMs(c.args));
    }
    const b = p50(base);
    for (const [j, c] of cases.entries()) {
      const s = samples[j];
      ctx.report.add('startup', {
        case: `${c.name}, p50`,
        figure: p50(s),
        unit: 'ms',
        baselineName: '`node -e 0`',
        baseline: b,
        target: `≤ ${c.target}×`,
        met: p50(s) <= c.target * b,
        runs,
        note: `spread p10–p90 ${percentile(s, 10).toFixed(0)}–${percentile(s, 90).toFixed(0)} ms (baseline ${percentile(base, 10).toFixed(0)}–${percentile(base, 90).toFixed(0)})`,
      });
    }
  } finally {
    await stopAll(agents);
    await broker.stop();
  }
}
