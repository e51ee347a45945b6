// What the numbers were measured on: printed with every scenario and written into BENCHMARKS.md.
import { cpus, loadavg, release, totalmem } from 'node:os';

export interface Machine {
  cores: number;
  cpu: string;
  node: string;
  os: string;
  memGiB: number;
  load: string;
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
  };
}

export function describe(m: Machine): string {
  return `${m.cores} cores (${m.cpu}), ${m.memGiB} GiB, node ${m.node}, ${m.os}, load ${m.load}`;
}
