// Brokers under test, each in its own process so its memory can be measured: the embedded aedes
// (broker/ in a bench worker) and Mosquitto, launched by the tests' own launcher
// (test/helpers/brokers.ts) with the deploy/ settings, set_tcp_nodelay above all.
import { readFileSync } from 'node:fs';
import { accepts, freePort, mosquittoAvailable, startMosquitto } from '../../test/helpers/brokers.js';
import { startWorker, type WorkerHandle } from './workers.js';

export { accepts, freePort, mosquittoAvailable };

export type BrokerKind = 'aedes' | 'mosquitto';

export interface BenchBroker {
  kind: BrokerKind;
  url: string;
  pid: number;
  /** Resident memory of the broker process, bytes (after a GC for aedes). */
  rss(): Promise<number>;
  stop(): Promise<void>;
}

/** VmRSS of any process from /proc, bytes. */
export function procRss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

export async function startBench(kind: BrokerKind): Promise<BenchBroker> {
  return kind === 'aedes' ? startAedesProc() : startMosquittoProc();
}

async function startAedesProc(): Promise<BenchBroker> {
  const w: WorkerHandle = await startWorker({ kind: 'broker' }, 30_000);
  return { kind: 'aedes', url: w.ready.url!, pid: w.child.pid!, rss: async () => (await w.rss()).rss, stop: () => w.stop() };
}

async function startMosquittoProc(): Promise<BenchBroker> {
  const b = await startMosquitto({ quiet: true });
  return { kind: 'mosquitto', url: b.url, pid: b.pid, rss: async () => procRss(b.pid), stop: () => b.stop() };
}
