// Spawn cost: `exec true` end to end through the controller, versus spawning `true` directly, so the
// overhead conplyent adds on top of the OS is visible (execa alone shown too: the agent uses it).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { execa } from 'execa';
import { banner } from '../lib/report.js';
import { startBench } from '../lib/brokers.js';
import { fleetWith } from '../lib/clients.js';
import { p50, p99, timeRuns, within } from '../lib/stats.js';
import { startAgents, stopAll } from '../lib/workers.js';
import type { Ctx } from './context.js';

export async function spawnCost(ctx: Ctx): Promise<void> {
  banner('spawn');
  const runs = ctx.quick ? 50 : 200;
  const broker = await startBench('aedes');
  const agents = await startAgents(broker.url, ['spawn-1'], join(ctx.tmp, 'spawn'), 1);
  const fleet = await fleetWith(broker.url, 1);
  try {
    const bare = () =>
      within(
        new Promise<void>((resolve, reject) => {
          const c = spawn('true', [], { stdio: 'ignore' });
          c.once('error', reject);
          c.once('exit', () => resolve());
        }),
        5_000,
        'spawn true',
      );
    const viaExeca = () => execa('true', [], { reject: false });
    const e2e = async () => {
      const [r] = await fleet.run('spawn-1', 'exec', ['true'], { waitMs: 10_000 }).done();
      if (r?.state !== 'ok') throw new Error(`exec true: ${r?.state}`);
    };
    const b: number[] = [];
    const x: number[] = [];
    const c: number[] = [];
    for (let done = 0; done < runs; done += 50) {
      const w = done === 0 ? 20 : 0;
      b.push(...(await timeRuns(50, w, bare)));
      x.push(...(await timeRuns(50, w, viaExeca)));
      c.push(...(await timeRuns(50, w, e2e)));
    }
    const base = { unit: 'ms', baselineName: "child_process.spawn('true')", runs: c.length };
    ctx.report.add('spawn', { case: 'exec true end to end, p50', figure: p50(c), baseline: p50(b), ...base, note: `overhead ${(p50(c) - p50(b)).toFixed(2)} ms` });
    ctx.report.add('spawn', { case: 'exec true end to end, p99', figure: p99(c), baseline: p99(b), ...base });
    ctx.report.add('spawn', { case: "execa('true') alone, p50", figure: p50(x), baseline: p50(b), ...base, note: 'what the agent spawns with' });
  } finally {
    await fleet.close();
    await stopAll(agents);
    await broker.stop();
  }
}
