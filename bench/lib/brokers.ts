// Brokers under test, each in its own process so its memory can be measured: the embedded aedes
// (broker/ in a bench worker) and Mosquitto, launched by the tests' own launcher
// (test/helpers/brokers.ts) with the deploy/ settings, set_tcp_nodelay above all; and a 3-node NATS
// JetStream cluster (test/helpers/nats-cluster.ts) with agents and controllers on different nodes.
import { readFileSync } from 'node:fs';
import { accepts, freePort, mosquittoAvailable, startMosquitto } from '../../test/helpers/brokers.js';
import { natsAvailable, startNatsCluster } from '../../test/helpers/nats-cluster.js';
import { startWorker, type WorkerHandle } from './workers.js';

export { accepts, freePort, mosquittoAvailable, natsAvailable };

export type BrokerKind = 'aedes' | 'mosquitto' | 'nats';

export interface BenchBroker {
  kind: BrokerKind;
  /** Where agents (and echo responders) connect: node 1 of a cluster. */
  url: string;
  /** Where controllers (and echo senders) connect: another node of a cluster, else url. */
  controllerUrl: string;
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
  if (kind === 'nats') return startNatsProc();
  return kind === 'aedes' ? startAedesProc() : startMosquittoProc();
}

async function startNatsProc(): Promise<BenchBroker> {
  const c = await startNatsCluster();
  // Memory is spread over three processes the cluster helper does not expose: not reported.
  return { kind: 'nats', url: c.nodes[0]!.mqttUrl, controllerUrl: c.nodes[1]!.mqttUrl, pid: 0, rss: async () => NaN, stop: () => c.stop() };
}

async function startAedesProc(): Promise<BenchBroker> {
  const w: WorkerHandle = await startWorker({ kind: 'broker' }, 30_000);
  return { kind: 'aedes', url: w.ready.url!, controllerUrl: w.ready.url!, pid: w.child.pid!, rss: async () => (await w.rss()).rss, stop: () => w.stop() };
}

async function startMosquittoProc(): Promise<BenchBroker> {
  const b = await startMosquitto({ quiet: true });
  return { kind: 'mosquitto', url: b.url, controllerUrl: b.url, pid: b.pid, rss: async () => procRss(b.pid), stop: () => b.stop() };
}
