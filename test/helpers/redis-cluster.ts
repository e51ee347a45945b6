// Two (or more) embedded brokers as one, the way an operator runs them: `conplyent broker --cluster
// redis://…` processes, each on its own loopback port, sharing one redis-server (broker/cluster.ts).
// The same shape as the NATS launcher (nodes, kill, restart), so a scenario runs on either.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { addUser } from '../../broker/index.js';
import { freePort, type TestUser } from './brokers.js';
import { startRedis, type TestRedis } from './redis.js';
import { stopProcess } from './server-process.js';
import type { BrokerCluster, ClusterNode } from './broker-cluster.js';

const READY_MS = 20_000;

/** The built CLI: dist/ beside the source tree, or the tree these helpers were compiled into (bench). */
function cliMain(): string {
  const fromSource = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
  return existsSync(fromSource) ? fromSource : fileURLToPath(new URL('../../cli/main.js', import.meta.url));
}
const STOP_MS = 5_000;

/** kill(i): the clients' Wills of broker `i` come from another broker after 3 missed beats. */
export interface RedisCluster extends BrokerCluster {
  redis: TestRedis;
}

export interface RedisClusterOptions {
  users?: readonly TestUser[];
  /** Broker count; default 2. */
  size?: number;
}

interface Proc {
  child?: ChildProcess;
  out: string;
}

/**
 * Starts Redis and the brokers and waits (bounded) until every broker listens.
 * @example
 * const cluster = await startRedisCluster();
 * const a = mqtt.connect(cluster.nodes[0].mqttUrl); // and another client on nodes[1]
 * await cluster.stop();
 */
export async function startRedisCluster(opts: RedisClusterOptions = {}): Promise<RedisCluster> {
  const size = opts.size ?? 2;
  const dir = mkdtempSync(join(tmpdir(), 'conplyent-redis-cluster-'));
  let usersFile: string | undefined;
  if (opts.users?.length) {
    usersFile = join(dir, 'users.json');
    for (const u of opts.users) await addUser(usersFile, u.username, u.role, u.password);
  }
  const redis = await startRedis();
  const ports: number[] = [];
  for (let i = 0; i < size; i++) ports.push(await freePort());
  const procs: Proc[] = ports.map(() => ({ out: '' }));
  const running = (i: number) => {
    const c = procs[i]!.child;
    return Boolean(c && c.exitCode === null && c.signalCode === null);
  };
  const at = (port: number) => ({ mqttPort: port, mqttUrl: `mqtt://127.0.0.1:${port}` });
  const nodes: ClusterNode[] = ports.map((port, i) => ({ name: `broker-${i + 1}`, ...at(port), running: () => running(i) }));

  /** One start attempt; false when the process exits before listening (the port not yet free). */
  const launch = (i: number): Promise<boolean> => {
    const p = procs[i]!;
    p.out = '';
    const args = [cliMain(), 'broker', '--host', '127.0.0.1', '--port', String(ports[i]), '--cluster', redis.url, '--log-level', 'warn'];
    if (usersFile) args.push('--users', usersFile);
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    p.child = child;
    const keep = (b: Buffer) => (p.out = (p.out + b.toString()).slice(-20_000));
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    return new Promise<boolean>((resolve, reject) => {
      const done = (v: boolean | Error) => {
        clearTimeout(timer);
        child.stdout!.off('data', check);
        child.off('exit', exited);
        if (v instanceof Error) reject(v);
        else resolve(v);
      };
      const check = () => {
        if (p.out.includes('conplyent broker listening on')) done(true);
      };
      const exited = () => done(false);
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        done(new Error(`broker ${nodes[i]!.name} did not listen within ${READY_MS} ms:\n${p.out}`));
      }, READY_MS);
      child.stdout!.on('data', check);
      child.once('exit', exited);
    });
  };
  /**
   * A restart keeps its port (clients dial it again) and waits for it to be free. At the first start
   * a port picked by freePort() can already be taken (the kernel hands it to another test's outgoing
   * connection, as in nats-cluster.ts): the broker says so and exits, and gets a fresh port.
   */
  const start = async (i: number, first = false) => {
    for (let attempt = 0; !(await launch(i)); attempt++) {
      if (attempt >= 20) throw new Error(`broker ${nodes[i]!.name} exited at start on port ${ports[i]}:\n${procs[i]!.out}`);
      if (first && procs[i]!.out.includes('the port is in use')) {
        ports[i] = await freePort();
        Object.assign(nodes[i]!, at(ports[i]!));
        continue;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const stopOne = async (i: number, signal: NodeJS.Signals) => {
    const child = procs[i]!.child;
    if (child && running(i)) await stopProcess(child, signal, STOP_MS);
  };
  const stopAll = async () => {
    await Promise.all(procs.map((_, i) => stopOne(i, 'SIGTERM')));
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    await Promise.all(procs.map((_, i) => start(i, true)));
  } catch (e) {
    await stopAll();
    throw e;
  }
  return {
    nodes,
    redis,
    kill: (i) => stopOne(i, 'SIGKILL'),
    restart: async (i) => {
      await stopOne(i, 'SIGTERM');
      await start(i);
    },
    log: (i) => procs[i]!.out,
    stop: stopAll,
  };
}
