// Brokers under test, each in its own process: the embedded aedes (broker/ in a bench worker) and
// Mosquitto with set_tcp_nodelay (skipped with a line when not installed).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep } from './stats.js';
import { startWorker, type WorkerHandle } from './workers.js';

export type BrokerKind = 'aedes' | 'mosquitto';
export const MOSQUITTO_BIN = '/usr/sbin/mosquitto';

export interface BenchBroker {
  kind: BrokerKind;
  url: string;
  pid: number;
  /** Resident memory of the broker process, bytes (after a GC for aedes). */
  rss(): Promise<number>;
  stop(): Promise<void>;
}

export function mosquittoAvailable(): boolean {
  return existsSync(MOSQUITTO_BIN);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ port, host: '127.0.0.1' });
    s.setTimeout(500);
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
    s.once('timeout', () => (s.destroy(), resolve(false)));
  });
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
  const dir = mkdtempSync(join(tmpdir(), 'conplyent-bench-mosq-'));
  for (let attempt = 0; attempt < 4; attempt++) {
    const port = await freePort();
    const conf = join(dir, 'mosquitto.conf');
    // Same settings as deploy/ (set_tcp_nodelay above all: Nagle costs 40-90 ms per round trip).
    const lines = [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'set_tcp_nodelay true', 'max_packet_size 1048576', 'max_queued_messages 10000', 'log_dest none'];
    if (process.getuid?.() === 0) lines.push('user root');
    writeFileSync(conf, lines.join('\n') + '\n');
    const child: ChildProcess = spawn(MOSQUITTO_BIN, ['-c', conf], { stdio: 'ignore' });
    let exited = false;
    child.once('exit', () => (exited = true));
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && !exited && !(await accepts(port))) await sleep(25);
    if (exited) continue; // the free port was taken meanwhile: try another
    if (!(await accepts(port))) {
      child.kill('SIGKILL');
      break;
    }
    return {
      kind: 'mosquitto',
      url: `mqtt://127.0.0.1:${port}`,
      pid: child.pid!,
      rss: async () => procRss(child.pid!),
      stop: async () => {
        if (!exited) {
          const gone = new Promise((r) => child.once('exit', r));
          child.kill('SIGTERM');
          await Promise.race([gone, sleep(5_000)]);
          if (!exited) child.kill('SIGKILL');
        }
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error('mosquitto did not start');
}
