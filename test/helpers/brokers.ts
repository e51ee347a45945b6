// Real brokers for tests and the bench: the embedded aedes broker (broker/) and Mosquitto as a child
// process, each on a free loopback port, with the same handle so suites can run
// `describe.each(brokerKinds())`. bench/lib/brokers.ts launches Mosquitto through this file too.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addUser, startBroker, type BrokerOptions, type RunningBroker } from '../../broker/index.js';
import { mosquittoConf, writeAuthFiles, type MosquittoUser } from './mosquitto.js';
import { stopProcess } from './server-process.js';
import { natsAvailable, startNatsCluster } from './nats-cluster.js';
import { redisAvailable } from './redis.js';
import { startRedisCluster } from './redis-cluster.js';
import type { BrokerCluster } from './broker-cluster.js';

/**
 * nats: a 3-node NATS JetStream cluster; redis: two `conplyent broker --cluster` processes sharing
 * one redis-server. On both, agents dial node 1 and controllers node 2 (controllerUrl).
 */
export type BrokerKind = 'aedes' | 'mosquitto' | 'nats' | 'redis';
export type TestUser = MosquittoUser;

export interface TestBroker {
  name: BrokerKind;
  /** mqtt://127.0.0.1:PORT */
  url: string;
  port: number;
  /** The process serving it: Mosquitto's child (changes on restart), or this process for aedes. */
  readonly pid: number;
  /**
   * Where controllers connect. Mosquitto: a controllers-only listener with free client ids (on the
   * main one every client id is the user name; deploy/README.md says why). aedes: the same as url.
   */
  controllerUrl: string;
  stop(): Promise<void>;
  /** Stops and starts again on the same port; keeps persisted state when persistence is configured. */
  restart(): Promise<void>;
}

export interface AedesTestOptions extends Omit<BrokerOptions, 'host' | 'usersFile'> {
  users?: TestUser[];
  /** Same as dataDir: one option name for both kinds. */
  persistenceDir?: string;
}

export interface MosquittoTestOptions {
  users?: TestUser[];
  /** Turns on `persistence true` with this location. */
  persistenceDir?: string;
  port?: number;
  /** No log output at all (`log_dest none`): the bench measures Mosquitto, not its logging. */
  quiet?: boolean;
}

export type StartOptions = AedesTestOptions & MosquittoTestOptions;

/** Where Mosquitto is looked for; CONPLYENT_MOSQUITTO_BIN overrides it (the helper's own tests use that). */
export function mosquittoBin(): string {
  return process.env.CONPLYENT_MOSQUITTO_BIN || '/usr/sbin/mosquitto';
}
const HOST = '127.0.0.1';
const WAIT_MS = 10_000;

export function mosquittoAvailable(): boolean {
  return existsSync(mosquittoBin());
}

let skipNoticePrinted = false;

/** The broker kinds to test against. Without Mosquitto: aedes only, with one visible line; in CI a failure. */
export function brokerKinds(): BrokerKind[] {
  if (mosquittoAvailable()) return ['aedes', 'mosquitto'];
  if (process.env.CI === 'true') throw new Error(`mosquitto not installed (${mosquittoBin()} missing): CI must run the Mosquitto suites (apt-get install mosquitto)`);
  if (!skipNoticePrinted) {
    skipNoticePrinted = true;
    console.warn('mosquitto not installed: Mosquitto runs skipped');
  }
  return ['aedes'];
}

let clusterNoticePrinted = false;

/**
 * The clustered engines: a NATS cluster and two embedded brokers sharing Redis. Without a server:
 * one visible line per missing one; in CI a failure.
 */
export function clusteredKinds(): BrokerKind[] {
  const kinds: BrokerKind[] = [];
  const missing: string[] = [];
  if (natsAvailable()) kinds.push('nats');
  else missing.push('nats-server');
  if (redisAvailable()) kinds.push('redis');
  else missing.push('redis-server');
  if (missing.length && process.env.CI === 'true') {
    throw new Error(`${missing.join(' and ')} not installed: CI must run the cluster suites (apt-get install ${missing.join(' ')})`);
  }
  if (missing.length && !clusterNoticePrinted) {
    clusterNoticePrinted = true;
    console.warn(`${missing.join(' and ')} not installed: those cluster runs skipped`);
  }
  return kinds;
}

/**
 * brokerKinds() plus the clustered engines, for the suites that add coverage there (agent contract,
 * controller, faults): a cluster costs seconds to start, so not every suite runs on one.
 */
export function clusterKinds(): BrokerKind[] {
  return [...brokerKinds(), ...clusteredKinds()];
}

/** A kind whose agents and controllers connect to different nodes (no persistenceDir, no port). */
export function isClustered(kind: BrokerKind): boolean {
  return kind === 'nats' || kind === 'redis';
}

export function startBrokerKind(kind: BrokerKind, opts: StartOptions = {}): Promise<TestBroker> {
  if (kind === 'aedes') return startAedes(opts);
  if (kind === 'mosquitto') return startMosquitto(opts);
  if (kind === 'nats') return startNats(opts);
  if (kind === 'redis') return startRedisPair(opts);
  throw new TypeError(`unknown broker kind ${String(kind)}`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A port that was free a moment ago (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, HOST, () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Whether something accepts TCP connections on the loopback port now. */
export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ port, host: HOST });
    s.setTimeout(500);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
    s.once('timeout', () => {
      s.destroy();
      resolve(false);
    });
  });
}

/** The embedded broker from broker/, on 127.0.0.1 (port 0 = free port unless opts.port). */
export async function startAedes(opts: AedesTestOptions = {}): Promise<TestBroker> {
  const { users, persistenceDir, ...rest } = opts;
  if (persistenceDir && !rest.dataDir) rest.dataDir = persistenceDir;
  let usersDir: string | undefined;
  let usersFile: string | undefined;
  if (users?.length) {
    usersDir = mkdtempSync(join(tmpdir(), 'conplyent-users-'));
    usersFile = join(usersDir, 'users.json');
    for (const u of users) await addUser(usersFile, u.username, u.role, u.password);
  }
  const launch = (port: number) => startBroker({ ...rest, host: HOST, port, usersFile });
  let broker: RunningBroker | undefined = await launch(opts.port ?? 0);
  const port = broker.port;
  const stopBroker = async () => {
    const b = broker;
    broker = undefined;
    await b?.close();
  };
  return {
    name: 'aedes',
    url: `mqtt://${HOST}:${port}`,
    controllerUrl: `mqtt://${HOST}:${port}`,
    port,
    pid: process.pid,
    stop: async () => {
      await stopBroker();
      if (usersDir) rmSync(usersDir, { recursive: true, force: true });
    },
    restart: async () => {
      await stopBroker();
      // The port was ours a moment ago; retry briefly in case the OS has not released it yet.
      for (let attempt = 0; ; attempt++) {
        try {
          broker = await launch(port);
          return;
        } catch (e) {
          if (attempt >= 20) throw e;
          await sleep(100);
        }
      }
    },
  };
}

/** Mosquitto as a child process with a generated config; users get a password file and the role ACL. */
export async function startMosquitto(opts: MosquittoTestOptions = {}): Promise<TestBroker> {
  if (!mosquittoAvailable()) throw new Error(`mosquitto not installed (${mosquittoBin()} missing)`);
  const dir = mkdtempSync(join(tmpdir(), 'conplyent-mosquitto-'));
  const auth = opts.users?.length ? writeAuthFiles(dir, opts.users) : undefined;
  const confFile = join(dir, 'mosquitto.conf');
  const controllerPort = auth ? await freePort() : undefined;
  const writeConf = (port: number) =>
    writeFileSync(
      confFile,
      mosquittoConf({
        port,
        bindAddress: HOST,
        ...auth,
        controllerPort,
        persistenceDir: opts.persistenceDir,
        // As root Mosquitto drops to user "mosquitto", which cannot read our 0600 temp files.
        runAs: process.getuid?.() === 0 ? 'root' : undefined,
        logDest: opts.quiet ? 'none' : undefined,
      }),
    );

  let child: ChildProcess | undefined;
  let output = '';
  const launch = async (port: number): Promise<boolean> => {
    writeConf(port);
    output = '';
    const proc = spawn(mosquittoBin(), ['-c', confFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    const keep = (d: Buffer) => (output = (output + d.toString()).slice(-8192));
    proc.stdout!.on('data', keep);
    proc.stderr!.on('data', keep);
    let exited = false;
    proc.once('exit', () => (exited = true));
    const deadline = Date.now() + WAIT_MS;
    while (Date.now() < deadline) {
      if (exited) return false;
      if (await accepts(port)) return true;
      await sleep(25);
    }
    await stopChild();
    throw new Error(`mosquitto did not accept connections on ${port} within ${WAIT_MS} ms:\n${output}`);
  };
  const stopChild = async () => {
    const proc = child;
    child = undefined;
    if (proc) await stopProcess(proc);
  };

  let port = opts.port ?? (await freePort());
  // Another process may take the free port between our probe and Mosquitto's bind: try a few.
  for (let attempt = 0; !(await launch(port)); attempt++) {
    if (opts.port !== undefined || attempt >= 3) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`mosquitto exited at start on port ${port}:\n${output}`);
    }
    port = await freePort();
  }
  return {
    name: 'mosquitto',
    url: `mqtt://${HOST}:${port}`,
    controllerUrl: `mqtt://${HOST}:${controllerPort ?? port}`,
    port,
    get pid() {
      return child?.pid ?? 0;
    },
    stop: async () => {
      await stopChild();
      rmSync(dir, { recursive: true, force: true });
    },
    restart: async () => {
      await stopChild();
      for (let attempt = 0; !(await launch(port)); attempt++) {
        if (attempt >= 20) throw new Error(`mosquitto did not restart on port ${port}:\n${output}`);
        await sleep(100);
      }
    },
  };
}

/**
 * A 3-node NATS cluster as one TestBroker: `url` is node 1 (agents), `controllerUrl` node 2, so every
 * command and event crosses the cluster. restart() kills node 1 and starts it again.
 */
export async function startNats(opts: StartOptions = {}): Promise<TestBroker> {
  if (opts.persistenceDir || opts.port !== undefined) throw new TypeError('the nats kind keeps its own JetStream store and ports');
  const cluster = await startNatsCluster({ users: opts.users });
  return asTestBroker('nats', cluster, async () => {
    await cluster.kill(0);
    await cluster.restart(0);
  });
}

/**
 * Two embedded brokers sharing one Redis as one TestBroker: `url` is broker 1 (agents),
 * `controllerUrl` broker 2, with the users and roles of the aedes kind. restart() restarts broker 1.
 */
export async function startRedisPair(opts: StartOptions = {}): Promise<TestBroker> {
  if (opts.persistenceDir || opts.port !== undefined) throw new TypeError('the redis kind keeps its state in Redis and picks its own ports');
  const cluster = await startRedisCluster({ users: opts.users });
  return asTestBroker('redis', cluster, () => cluster.restart(0));
}

/** Agents on node 1, controllers on node 2; "the broker" restarted is the agents' node. */
function asTestBroker(name: BrokerKind, cluster: BrokerCluster, restart: () => Promise<void>): TestBroker {
  const [agents, controllers] = cluster.nodes;
  return {
    name,
    url: agents!.mqttUrl,
    controllerUrl: controllers!.mqttUrl,
    port: agents!.mqttPort,
    pid: 0,
    stop: () => cluster.stop(),
    restart,
  };
}
