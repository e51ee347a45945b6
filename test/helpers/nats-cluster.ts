// A 3-node NATS cluster with MQTT on free loopback ports, in a temp dir: for tests and benches of
// conplyent on a clustered broker. Ready means every node accepts MQTT and JetStream has a meta
// leader (MQTT sessions and retained messages are JetStream streams; before that CONNECT fails).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { freePort } from './brokers.js';
import { serverBin, stopProcess } from './server-process.js';
import { natsNodeConf, type NatsUser } from './nats-conf.js';
import type { BrokerCluster, ClusterNode } from './broker-cluster.js';

const HOST = '127.0.0.1';
const READY_MS = 60_000;
const PORT_RETRIES = 5;
const STOP_MS = 5_000;

/** Debian installs it in /usr/sbin; CONPLYENT_NATS_BIN overrides. */
export function natsServerBin(): string {
  return serverBin('CONPLYENT_NATS_BIN', ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'], 'nats-server');
}

export function natsAvailable(): boolean {
  return existsSync(natsServerBin());
}

export interface NatsNode extends ClusterNode {
  /** http://127.0.0.1:PORT of the monitoring listener (`/healthz`, `/jsz`, `/connz`). */
  monitorUrl: string;
}

export type NatsCluster = BrokerCluster<NatsNode>;

export interface NatsClusterOptions {
  users?: readonly NatsUser[];
  /** Node count; 3 is the smallest cluster that keeps a JetStream quorum with one node down. */
  size?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Proc {
  child?: ChildProcess;
  out: string;
  conf: string;
}

/** One MQTT CONNECT that must get its CONNACK; resolves false on refusal or timeout. */
function mqttAccepts(url: string, user?: NatsUser): Promise<boolean> {
  return new Promise((resolve) => {
    const c = mqtt.connect(url, {
      clientId: `ready-${Math.random().toString(36).slice(2, 10)}`,
      reconnectPeriod: 0,
      connectTimeout: 3_000,
      username: user?.username,
      password: user?.password,
    });
    const done = (ok: boolean) => {
      c.end(true);
      resolve(ok);
    };
    c.once('connect', () => done(true));
    c.once('error', () => done(false));
    c.once('close', () => done(false));
  });
}

/**
 * The node's /healthz. Right after a restart, `serverOnly` asks about the server and JetStream
 * alone: the full check also waits for every MQTT session's consumer to be current again, which
 * a consumer of a stopped client may take minutes to become on 2 loaded cores (nats-server 2.9).
 */
async function healthy(monitorUrl: string, serverOnly = false): Promise<boolean> {
  try {
    const res = await fetch(`${monitorUrl}/healthz${serverOnly ? '?js-server-only=true' : ''}`, { signal: AbortSignal.timeout(2_000) });
    return res.ok;
  } catch {
    return false;
  }
}

/**
 * Starts the cluster and waits (bounded) until every node is healthy and accepts MQTT.
 * @example
 * const cluster = await startNatsCluster();
 * const a = mqtt.connect(cluster.nodes[0].mqttUrl);
 * await cluster.stop();
 */
export async function startNatsCluster(opts: NatsClusterOptions = {}): Promise<NatsCluster> {
  const size = opts.size ?? 3;
  const dir = mkdtempSync(join(tmpdir(), 'conplyent-nats-'));
  const ports: { client: number; http: number; mqtt: number; route: number }[] = [];
  for (let i = 0; i < size; i++) {
    ports.push({ client: await freePort(), http: await freePort(), mqtt: await freePort(), route: await freePort() });
  }
  let routes = ports.map((p) => `${HOST}:${p.route}`);
  const writeConf = (i: number): string => {
    const p = ports[i]!;
    const storeDir = join(dir, `node-${i + 1}`);
    mkdirSync(storeDir, { recursive: true });
    const conf = join(dir, `node-${i + 1}.conf`);
    const text = natsNodeConf({
      name: `node-${i + 1}`,
      cluster: 'conplyent',
      host: HOST,
      clientPort: p.client,
      httpPort: p.http,
      mqttPort: p.mqtt,
      routePort: p.route,
      routes,
      storeDir,
      users: opts.users,
    });
    writeFileSync(conf, text, { mode: 0o600 });
    return conf;
  };
  const procs: Proc[] = ports.map((_, i) => ({ out: '', conf: writeConf(i) }));
  const nodes: NatsNode[] = ports.map((p, i) => ({
    name: `node-${i + 1}`,
    mqttPort: p.mqtt,
    mqttUrl: `mqtt://${HOST}:${p.mqtt}`,
    monitorUrl: `http://${HOST}:${p.http}`,
    running: () => Boolean(procs[i].child && procs[i].child.exitCode === null && procs[i].child.signalCode === null),
  }));
  /**
   * A port picked by freePort() can be taken before nats-server binds it (the kernel hands the same
   * ephemeral port to another test's outgoing connection): the node exits at start. Give it fresh
   * ports and a new config; the others still reach it, as it dials their routes itself.
   */
  const repick = async (i: number) => {
    ports[i] = { client: await freePort(), http: await freePort(), mqtt: await freePort(), route: await freePort() };
    routes = ports.map((p) => `${HOST}:${p.route}`);
    procs[i]!.conf = writeConf(i);
    Object.assign(nodes[i]!, { mqttPort: ports[i]!.mqtt, mqttUrl: `mqtt://${HOST}:${ports[i]!.mqtt}`, monitorUrl: `http://${HOST}:${ports[i]!.http}` });
  };
  const probeUser = opts.users?.find((u) => u.role === 'observer') ?? opts.users?.[0];

  const launch = (i: number) => {
    const p = procs[i];
    const child = spawn(natsServerBin(), ['-c', p.conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (b: Buffer) => {
      p.out = (p.out + b.toString()).slice(-20_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    p.child = child;
  };
  /** Per node, how often its ports were picked again at the first start (undefined after it). */
  let startAttempts: number[] | undefined = ports.map(() => 0);
  const waitReady = async (which: number[], serverOnly = false) => {
    const deadline = Date.now() + READY_MS;
    const pending = new Set(which);
    while (pending.size && Date.now() < deadline) {
      for (const i of [...pending]) {
        if (!nodes[i].running()) {
          if (startAttempts !== undefined && /address already in use/i.test(procs[i].out) && startAttempts[i]! < PORT_RETRIES) {
            startAttempts[i]!++;
            await repick(i);
            launch(i);
            continue;
          }
          throw new Error(`nats ${nodes[i].name} exited:\n${procs[i].out}`);
        }
        if ((await healthy(nodes[i].monitorUrl, serverOnly)) && (await mqttAccepts(nodes[i].mqttUrl, probeUser))) pending.delete(i);
      }
      if (pending.size) await sleep(200);
    }
    if (pending.size) {
      const names = [...pending].map((i) => `${nodes[i].name}:\n${procs[i].out.slice(-3_000)}`).join('\n');
      throw new Error(`nats cluster not ready within ${READY_MS} ms:\n${names}`);
    }
  };
  const stopOne = async (i: number, signal: NodeJS.Signals) => {
    const child = procs[i].child;
    if (!child || !nodes[i].running()) return;
    await stopProcess(child, signal, STOP_MS);
  };
  const stopAll = async () => {
    await Promise.all(procs.map((_, i) => stopOne(i, 'SIGTERM')));
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    for (let i = 0; i < size; i++) launch(i);
    await waitReady(procs.map((_, i) => i));
    startAttempts = undefined; // a restart keeps its ports: clients and tests hold them
  } catch (e) {
    await stopAll();
    throw e;
  }
  return {
    nodes,
    kill: (i) => stopOne(i, 'SIGKILL'),
    restart: async (i) => {
      await stopOne(i, 'SIGTERM');
      launch(i);
      await waitReady([i], true);
    },
    log: (i) => procs[i].out,
    stop: stopAll,
  };
}
