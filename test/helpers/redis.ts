// redis-server on a free loopback port in a temp dir, without persistence to disk (a test's state
// dies with it), for the clustered embedded broker (broker/cluster.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './brokers.js';
import { serverBin, stopProcess } from './server-process.js';

const HOST = '127.0.0.1';
const PORT_RETRIES = 5;
const READY_MS = 10_000;
const STOP_MS = 5_000;

/** Debian installs it in /usr/bin; CONPLYENT_REDIS_BIN overrides. */
export function redisServerBin(): string {
  return serverBin('CONPLYENT_REDIS_BIN', ['/usr/bin/redis-server', '/usr/local/bin/redis-server', '/usr/sbin/redis-server'], 'redis-server');
}

export function redisAvailable(): boolean {
  return existsSync(redisServerBin());
}

export interface TestRedis {
  /** redis://127.0.0.1:PORT */
  url: string;
  port: number;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** True once Redis answers PING with PONG on a raw socket (RESP inline command). */
function pong(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: HOST, port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1_000, () => done(false));
    s.once('error', () => done(false));
    s.once('connect', () => s.write('PING\r\n'));
    s.once('data', (d) => done(d.toString().startsWith('+PONG')));
  });
}

/**
 * Starts redis-server and waits (bounded) until it answers. A port picked by freePort() can be
 * taken before redis binds it (another test's outgoing connection got it): then a new port, up to
 * PORT_RETRIES times.
 */
export async function startRedis(): Promise<TestRedis> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await startRedisOn(await freePort());
    } catch (err) {
      if (!(err instanceof PortTaken) || attempt >= PORT_RETRIES) throw err;
    }
  }
}

class PortTaken extends Error {}

async function startRedisOn(port: number): Promise<TestRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'conplyent-redis-'));
  const args = ['--port', String(port), '--bind', HOST, '--dir', dir, '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'];
  const child: ChildProcess = spawn(redisServerBin(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d) => (out = (out + d).slice(-10_000)));
  child.stderr?.on('data', (d) => (out = (out + d).slice(-10_000)));
  const stop = async () => {
    await stopProcess(child, 'SIGTERM', STOP_MS);
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + READY_MS;
  while (!(await pong(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      const message = `redis-server did not answer on ${HOST}:${port} within ${READY_MS} ms:\n${out}`;
      throw child.exitCode !== null && /address already in use/i.test(out) ? new PortTaken(message) : new Error(message);
    }
    await sleep(100);
  }
  return { url: `redis://${HOST}:${port}`, port, stop };
}
