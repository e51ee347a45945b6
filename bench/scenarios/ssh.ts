// Fan-out against ssh: `exec uptime` on N agents versus parallel-ssh to N logins on a local sshd.
// Both from a running process (controller connected; pssh's own startup is part of its cost) and,
// to be fair to pssh, also from a cold `conplyent exec` CLI process.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { banner } from '../lib/report.js';
import { startBench } from '../lib/brokers.js';
import { fleetWith } from '../lib/clients.js';
import { startSshd, sshMissing, PSSH } from '../lib/sshd.js';
import { nowMs, p50, within } from '../lib/stats.js';
import { startAgents, stopAll, type WorkerHandle } from '../lib/workers.js';
import type { Ctx } from './context.js';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../../cli/main.js', import.meta.url));

export async function ssh(ctx: Ctx): Promise<void> {
  banner('ssh');
  const missing = sshMissing(true);
  if (missing) return ctx.report.skip('ssh', missing);
  const sizes = [10, 50];
  const sshd = await startSshd(join(ctx.tmp, 'sshd-fan'));
  const broker = await startBench('aedes');
  let agents: WorkerHandle[] = [];
  try {
    let started = 0;
    for (const n of sizes) {
      const names = Array.from({ length: n - started }, (_, i) => `ssh-${String(started + i).padStart(3, '0')}`);
      agents.push(...(await startAgents(broker.url, names, join(ctx.tmp, 'ssh-agents'), Math.min(4, names.length))));
      started = n;
      const hostsFile = join(ctx.tmp, `pssh-hosts-${n}`);
      writeFileSync(hostsFile, Array.from({ length: n }, () => `${sshd.user}@127.0.0.1:${sshd.port}`).join('\n') + '\n');
      const fleet = await fleetWith(broker.url, n);
      const pssh = async () => {
        const t = nowMs();
        const r = await run(PSSH, ['-h', hostsFile, '-p', String(n), '-t', '30', ...sshd.psshOpts, 'uptime'], { timeout: 60_000 });
        const ok = (r.stdout.match(/\[SUCCESS\]/g) ?? []).length;
        if (ok !== n) throw new Error(`parallel-ssh: ${ok}/${n} succeeded:\n${r.stdout.slice(0, 500)}`);
        return nowMs() - t;
      };
      const lib = async () => {
        const t = nowMs();
        const results = await within(fleet.run('all', 'exec', ['uptime'], { waitMs: 30_000 }).done(), 35_000, 'exec uptime');
        const ok = results.filter((r) => r.state === 'ok' && r.stdout.includes('load average')).length;
        if (ok !== n) throw new Error(`exec uptime: ${ok}/${n} ok`);
        return nowMs() - t;
      };
      const cli = async () => {
        const t = nowMs();
        const r = await run(process.execPath, [CLI, 'exec', 'all', '--broker', broker.url, '--timeout', '30', '--', 'uptime'], { timeout: 60_000 });
        const lines = r.stdout.split('\n').filter((l) => l.includes('load average')).length;
        if (lines !== n) throw new Error(`conplyent exec: ${lines}/${n} hosts answered:\n${r.stdout.slice(0, 300)}${r.stderr.slice(0, 300)}`);
        return nowMs() - t;
      };
      // Warm once at the first size (page cache for python, node and ssh); N=50 pssh takes seconds a run, so fewer runs there.
      if (n === sizes[0]) for (const f of [pssh, lib, cli]) await f();
      const runs = ctx.quick ? 2 : n >= 50 ? 3 : 5;
      const ps: number[] = [];
      const ls: number[] = [];
      const cs: number[] = [];
      for (let i = 0; i < runs; i++) {
        ps.push(await pssh());
        ls.push(await lib());
        cs.push(await cli());
      }
      const base = { unit: 'ms', baselineName: `parallel-ssh -p ${n}`, baseline: p50(ps), runs };
      ctx.report.add('ssh', { case: `N=${n} exec uptime, controller library, p50`, figure: p50(ls), ...base });
      ctx.report.add('ssh', { case: `N=${n} exec uptime, \`conplyent exec\` CLI (cold process), p50`, figure: p50(cs), ...base, note: 'includes node start, connect, presence settle' });
      await fleet.close();
    }
  } finally {
    await stopAll(agents);
    agents = [];
    await broker.stop();
    await sshd.stop();
  }
}
