// File transfer: `put` of a random file to one host beside `get` of the same file back, on aedes and
// Mosquitto, through the controller library. Both check sha256; `get` streams like command output,
// so it is the baseline a `put` (one wrfile command per chunk) should come close to.
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { get, put } from '../../controller/index.js';
import { startBench, mosquittoAvailable, type BrokerKind } from '../lib/brokers.js';
import { fleetWith } from '../lib/clients.js';
import { banner } from '../lib/report.js';
import { nowMs, within } from '../lib/stats.js';
import { startAgents, stopAll } from '../lib/workers.js';
import type { Ctx } from './context.js';

const MB = 1024 * 1024;

export async function transfer(ctx: Ctx): Promise<void> {
  banner('transfer');
  const size = (ctx.quick ? 10 : 50) * MB;
  const local = join(ctx.tmp, 'transfer-src');
  writeFileSync(local, randomBytes(size));
  const kinds: BrokerKind[] = mosquittoAvailable() ? ['aedes', 'mosquitto'] : ['aedes'];
  if (kinds.length === 1) ctx.report.skip('transfer', 'mosquitto not installed: aedes only');
  for (const kind of kinds) {
    const broker = await startBench(kind);
    const agents = await startAgents(broker.url, ['xfer-1'], join(ctx.tmp, `transfer-${kind}`), 1);
    const fleet = await fleetWith(broker.url, 1);
    try {
      const remote = join(ctx.tmp, `transfer-remote-${kind}`);
      const back = join(ctx.tmp, `transfer-back-${kind}`);
      const timed = async (what: string, f: () => Promise<{ ok: boolean; error?: string }[] | { ok: boolean; error?: string }>) => {
        const t = nowMs();
        const r = [await within(f(), 120_000, what)].flat();
        if (!r[0]?.ok) throw new Error(`${what}: ${r[0]?.error ?? 'no result'}`);
        return size / MB / ((nowMs() - t) / 1000);
      };
      const p: number[] = [];
      const g: number[] = [];
      // Interleaved, best of three: the slower runs on a shared machine mostly measure the neighbours.
      for (let i = 0; i < (ctx.quick ? 1 : 3); i++) {
        p.push(await timed('put', () => put(fleet, 'xfer-1', local, remote)));
        g.push(await timed('get', () => get(fleet, 'xfer-1', remote, back)));
        rmSync(back, { force: true });
      }
      const best = (xs: number[]) => Math.max(...xs);
      ctx.report.add('transfer', {
        case: `${kind}: put ${size / MB} MB to one host`,
        figure: best(p),
        unit: 'MB/s',
        baselineName: `get of the same file`,
        baseline: best(g),
        target: '≥ 0.8×',
        met: best(p) >= 0.8 * best(g),
        runs: p.length,
        note: `best of ${p.length}; put ${p.map((x) => x.toFixed(1)).join('/')}, get ${g.map((x) => x.toFixed(1)).join('/')} MB/s`,
      });
    } finally {
      await fleet.close();
      await stopAll(agents);
      await broker.stop();
    }
  }
}
