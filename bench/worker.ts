// A child process of the bench: hosts an aedes broker, a batch of agents, or a batch of raw mqtt.js
// echo clients, so that broker, agents and the measuring controller never share one event loop
// (as in production). Driven over the IPC channel: start → ready, rss → rss, stop → exit.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import type { Agent, AgentOptions } from '../agent/index.js';
import { pool } from './lib/pool.js';

export type WorkerSpec =
  | { kind: 'broker'; cluster?: string; clusterHeartbeatMs?: number }
  | { kind: 'agents'; url: string; names: string[]; stateRoot: string; keepaliveSec: number; concurrency: number; agentOptions?: Partial<AgentOptions> }
  | { kind: 'echo'; url: string; count: number; prefix: string; keepaliveSec: number; concurrency: number; subs?: number; noNumberTable?: boolean }
  | { kind: 'blast'; url: string; topic: string; shell: string; window: number; chunkBytes: number }
  | { kind: 'presence'; url: string; name: string }
  | { kind: 'lean'; url: string; names: string[]; concurrency: number };

export type ToWorker = { op: 'start'; spec: WorkerSpec } | { op: 'go' } | { op: 'rss' } | { op: 'stop' };
export type FromWorker =
  | { op: 'ready'; url?: string; startMs: number; spawnedAt: number; startCalledAt: number }
  | { op: 'rss'; rss: number; heapUsed: number }
  | { op: 'went'; bytes: number }
  | { op: 'error'; message: string };

const send = (m: FromWorker) => process.send?.(m);
const spawnedAt = performance.timeOrigin;
let stopper: () => Promise<void> = async () => {};
let go: () => Promise<number> = async () => 0;
/** When the role's work began, after its modules were imported (epoch ms, comparable across processes). */
let startAt = 0;
const epochNow = () => performance.timeOrigin + performance.now();

function rawClient(url: string, clientId: string, keepaliveSec: number, clean = true): Promise<MqttClient> {
  const c = mqtt.connect(url, { clientId, protocolVersion: 4, keepalive: keepaliveSec, reconnectPeriod: 1000, clean });
  c.on('connect', () => (c.stream as { setNoDelay?: (v: boolean) => void } | undefined)?.setNoDelay?.(true));
  c.on('error', () => {});
  return new Promise((resolve) => c.once('connect', () => resolve(c)));
}

async function start(spec: WorkerSpec): Promise<string | undefined> {
  if (spec.kind === 'broker') {
    // Imported on demand: a worker's RSS holds only what its role needs (footprint compares them).
    const { startBroker } = await import('../broker/index.js');
    // The connect-rate guard exempts loopback already; raise the connection cap above the fleet sizes we test.
    const b = await startBroker({ port: 0, maxConnections: 20_000, cluster: spec.cluster, clusterHeartbeatMs: spec.clusterHeartbeatMs });
    stopper = () => b.close();
    return b.url;
  }
  if (spec.kind === 'agents') {
    const { createAgent } = await import('../agent/index.js');
    startAt = epochNow();
    const agents: Agent[] = [];
    await pool(spec.names, spec.concurrency, async (name) => {
      const stateDir = join(spec.stateRoot, name);
      mkdirSync(stateDir, { recursive: true });
      // Long keepalive: at 1000 agents on 2 cores, PINGREQ traffic is noise we do not want to measure.
      const a = createAgent({ ...spec.agentOptions, broker: spec.url, name, stateDir, keepaliveSec: spec.keepaliveSec });
      agents.push(a);
      await a.start();
    });
    stopper = async () => {
      await Promise.all(agents.map((a) => a.stop().catch(() => {})));
    };
    return undefined;
  }
  if (spec.kind === 'presence') {
    // The start-to-online baseline: a cold process that connects and publishes a retained status, nothing else.
    const { PROTOCOL_VERSION, topics } = await import('../protocol/index.js');
    startAt = epochNow();
    const c = await rawClient(spec.url, `presence-${process.pid}`, 600);
    const now = Date.now();
    await c.publishAsync(topics.status(spec.name), JSON.stringify({ v: PROTOCOL_VERSION, host: spec.name, online: true, boot: 1, conn: 1, since: now, startedAt: now }), { qos: 1, retain: true });
    stopper = () => c.endAsync();
    return undefined;
  }
  if (spec.kind === 'lean') {
    const { startLeanAgents } = await import('./lib/lean-agent.js');
    const clients = await startLeanAgents(spec.url, spec.names, spec.concurrency);
    stopper = async () => {
      await Promise.all(clients.map((c) => c.endAsync(true).catch(() => {})));
    };
    return undefined;
  }
  if (spec.kind === 'blast') {
    const c = await rawClient(spec.url, `blast-${process.pid}`, 600);
    go = () => blast(c, spec);
    stopper = () => c.endAsync();
    return undefined;
  }
  // As link/packet-cache.ts does for agents: a baseline without mqtt-packet's number table.
  if (spec.noNumberTable) (await import('mqtt-packet')).writeToStream.cacheNumbers = false;
  // The raw baseline: each client republishes whatever reaches <prefix>/req to <prefix>/rep/<i>, QoS 1 both ways like the contract.
  const clients: MqttClient[] = [];
  const ids = Array.from({ length: spec.count }, (_, i) => i);
  await pool(ids, spec.concurrency, async (i) => {
    const c = await rawClient(spec.url, `${spec.prefix.replace(/\//g, '-')}-${process.pid}-${i}`, spec.keepaliveSec);
    const rep = `${spec.prefix}/rep/${process.pid}-${i}`;
    c.on('message', (_t, payload) => c.publish(rep, payload, { qos: 1 }));
    const extra = Array.from({ length: Math.max(0, (spec.subs ?? 1) - 1) }, (_, k) => `${spec.prefix}/extra/${process.pid}-${i}/${k}`);
    await c.subscribeAsync([`${spec.prefix}/req`, ...extra], { qos: 1 });
    clients.push(c);
  });
  stopper = async () => {
    await Promise.all(clients.map((c) => c.endAsync().catch(() => {})));
  };
  return undefined;
}

/**
 * The raw streaming baseline: the program's stdout published as it comes, in chunks of at most
 * chunkBytes, QoS 1, at most `window` unacknowledged (the agent's default window), no encoding.
 */
async function blast(c: MqttClient, spec: Extract<WorkerSpec, { kind: 'blast' }>): Promise<number> {
  const child = spawn('sh', ['-c', spec.shell], { stdio: ['ignore', 'pipe', 'ignore'] });
  let inflight = 0;
  let bytes = 0;
  let wake: (() => void) | undefined;
  const acked = () => {
    inflight--;
    wake?.();
  };
  for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
    for (let off = 0; off < chunk.length; off += spec.chunkBytes) {
      while (inflight >= spec.window) await new Promise<void>((r) => (wake = r));
      const piece = chunk.subarray(off, off + spec.chunkBytes);
      inflight++;
      bytes += piece.length;
      c.publish(spec.topic, piece, { qos: 1 }, acked);
    }
  }
  while (inflight > 0) await new Promise<void>((r) => (wake = r));
  return bytes;
}

process.on('message', (m: ToWorker) => {
  if (m.op === 'start') {
    startAt = epochNow();
    const t = performance.now();
    start(m.spec).then(
      (url) => send({ op: 'ready', url, startMs: performance.now() - t, spawnedAt, startCalledAt: startAt }),
      (e: Error) => send({ op: 'error', message: e.message }),
    );
  } else if (m.op === 'go') {
    go().then(
      (bytes) => send({ op: 'went', bytes }),
      (e: Error) => send({ op: 'error', message: e.message }),
    );
  } else if (m.op === 'rss') {
    // Measure live memory, not garbage awaiting collection (the bench forks us with --expose-gc).
    (globalThis as { gc?: () => void }).gc?.();
    const mu = process.memoryUsage();
    send({ op: 'rss', rss: mu.rss, heapUsed: mu.heapUsed });
  } else if (m.op === 'stop') {
    const hard = setTimeout(() => process.exit(0), 5_000);
    void stopper().finally(() => {
      clearTimeout(hard);
      process.exit(0);
    });
  }
});
// The parent going away must not leave us running.
process.on('disconnect', () => process.exit(0));
