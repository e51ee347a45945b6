// Brokers under test, each in its own process so its memory can be measured: the embedded aedes
// (broker/ in a bench worker) and Mosquitto, launched by the tests' own launcher
// (test/helpers/brokers.ts) with the deploy/ settings, set_tcp_nodelay above all; a 3-node NATS
// JetStream cluster (test/helpers/nats-cluster.ts) and two embedded brokers sharing Redis
// (`--cluster redis://…`, broker/cluster.ts), both with agents and controllers on different nodes.
import { readFileSync } from 'node:fs';
import { accepts, freePort, mosquittoAvailable, startMosquitto } from '../../test/helpers/brokers.js';
import { natsAvailable, startNatsCluster } from '../../test/helpers/nats-cluster.js';
import { redisAvailable, startRedis } from '../../test/helpers/redis.js';
import type { Report } from './report.js';
import { startWorker, type WorkerHandle } from './workers.js';

export { accepts, freePort, mosquittoAvailable, natsAvailable, redisAvailable };

export type BrokerKind = 'aedes' | 'mosquitto' | 'nats' | 'redis';

/** How each engine is named in a row: the clustered ones say where agents and controllers sit. */
export const ENGINE_NAMES: Record<BrokerKind, string> = {
  aedes: 'aedes',
  mosquitto: 'mosquitto',
  nats: 'nats 3-node cluster',
  redis: 'aedes ×2 on redis',
};

export interface BenchBroker {
  kind: BrokerKind;
  /** Where agents (and echo responders) connect: node 1 of a cluster. */
  url: string;
  /** Where controllers (and echo senders) connect: another node of a cluster, else url. */
  controllerUrl: string;
  /** Every node, the agent's node first: the broker list an agent is given for failover. */
  nodes: readonly string[];
  pid: number;
  /** Resident memory of the broker process, bytes (after a GC for aedes). */
  rss(): Promise<number>;
  /** SIGKILLs the node agents connect to (url): no goodbye, no Wills from it. Clusters only. */
  killAgentNode?(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The engines installed here among `wanted`, in order; each missing one is said once in the report.
 * aedes is always there (it is ours).
 */
export function availableKinds(report: Report, scenario: string, wanted: readonly BrokerKind[] = ['aedes', 'mosquitto', 'nats', 'redis']): BrokerKind[] {
  const missing: Record<BrokerKind, string | undefined> = {
    aedes: undefined,
    mosquitto: mosquittoAvailable() ? undefined : 'mosquitto not installed (/usr/sbin/mosquitto missing)',
    nats: natsAvailable() ? undefined : 'nats-server not installed: NATS cluster runs skipped',
    redis: redisAvailable() ? undefined : 'redis-server not installed: clustered embedded broker runs skipped',
  };
  return wanted.filter((k) => {
    if (missing[k]) report.skip(scenario, missing[k]!);
    return !missing[k];
  });
}

/** VmRSS of any process from /proc, bytes. */
export function procRss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

export async function startBench(kind: BrokerKind): Promise<BenchBroker> {
  if (kind === 'nats') return startNatsProc();
  if (kind === 'redis') return startRedisPair();
  return kind === 'aedes' ? startAedesProc() : startMosquittoProc();
}

async function startNatsProc(): Promise<BenchBroker> {
  const c = await startNatsCluster();
  const nodes = c.nodes.map((n) => n.mqttUrl);
  // Memory is spread over three processes the cluster helper does not expose: not reported.
  return { kind: 'nats', url: nodes[0]!, controllerUrl: nodes[1]!, nodes, pid: 0, rss: async () => NaN, killAgentNode: () => c.kill(0), stop: () => c.stop() };
}

/** Two embedded brokers on one Redis (broker/cluster.ts), agents on the first, controllers on the second. */
async function startRedisPair(): Promise<BenchBroker> {
  const redis = await startRedis();
  const started: WorkerHandle[] = [];
  try {
    // A 1 s cluster heartbeat: the survivor publishes a dead broker's Wills after ~3 s, not ~15 s.
    for (let i = 0; i < 2; i++) started.push(await startWorker({ kind: 'broker', cluster: redis.url, clusterHeartbeatMs: 1_000 }, 30_000));
  } catch (e) {
    await Promise.all(started.map((w) => w.stop()));
    await redis.stop();
    throw e;
  }
  const [a, b] = started as [WorkerHandle, WorkerHandle];
  return {
    kind: 'redis',
    url: a.ready.url!,
    controllerUrl: b.ready.url!,
    nodes: [a.ready.url!, b.ready.url!],
    pid: a.child.pid!,
    rss: async () => (await a.rss()).rss,
    killAgentNode: async () => {
      const gone = new Promise((r) => a.child.once('exit', r));
      a.child.kill('SIGKILL');
      await gone;
    },
    stop: async () => {
      await Promise.all(started.map((w) => w.stop()));
      await redis.stop();
    },
  };
}

async function startAedesProc(): Promise<BenchBroker> {
  const w: WorkerHandle = await startWorker({ kind: 'broker' }, 30_000);
  const url = w.ready.url!;
  return { kind: 'aedes', url, controllerUrl: url, nodes: [url], pid: w.child.pid!, rss: async () => (await w.rss()).rss, stop: () => w.stop() };
}

async function startMosquittoProc(): Promise<BenchBroker> {
  const b = await startMosquitto({ quiet: true });
  return { kind: 'mosquitto', url: b.url, controllerUrl: b.url, nodes: [b.url], pid: b.pid, rss: async () => procRss(b.pid), stop: () => b.stop() };
}
