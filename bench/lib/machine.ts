// What the numbers were measured on: printed with every scenario and written into BENCHMARKS.md.
import { execFileSync } from 'node:child_process';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';

export interface Machine {
  cores: number;
  cpu: string;
  node: string;
  os: string;
  memGiB: number;
  load: string;
  /** The source tree the numbers belong to: HEAD, and whether the tree had uncommitted changes. */
  commit: string;
}

function commit(): string {
  try {
    const cwd = fileURLToPath(new URL('../../..', import.meta.url));
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    return dirty ? `${head} + uncommitted changes` : head;
  } catch {
    return 'unknown (not a git checkout)';
  }
}

export function machine(): Machine {
  const c = cpus();
  return {
    cores: c.length,
    cpu: c[0]?.model.trim() ?? 'unknown',
    node: process.version,
    os: `${process.platform} ${release()}`,
    memGiB: Math.round(totalmem() / 2 ** 30),
    load: loadavg().map((l) => l.toFixed(2)).join(' '),
    commit: commit(),
  };
}

export function describe(m: Machine): string {
  return `${m.cores} cores (${m.cpu}), ${m.memGiB} GiB, node ${m.node}, ${m.os}, load ${m.load}, commit ${m.commit}`;
}
