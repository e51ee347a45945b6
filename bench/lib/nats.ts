// One nats-server node with JetStream and MQTT on loopback, for the scale bench (the 3-node cluster
// launcher for tests is test/helpers/nats-cluster.ts). Skipped with a line when not installed.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accepts, freePort, procRss } from './brokers.js';
import { sleep } from './stats.js';

const NATS_BINS = ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'];

export function natsBin(): string | undefined {
  return NATS_BINS.find((p) => existsSync(p));
}

export interface BenchNats {
  url: string;
  pid: number;
  rss(): Promise<number>;
  stop(): Promise<void>;
}

/** Starts the node and waits (bounded) until its MQTT port accepts; JetStream is up by then on one node. */
export async function startNatsNode(): Promise<BenchNats> {
  const bin = natsBin();
  if (!bin) throw new Error('nats-server not installed');
  const dir = mkdtempSync(join(tmpdir(), 'conplyent-bench-nats-'));
  const [client, mqtt] = [await freePort(), await freePort()];
  const conf = join(dir, 'nats.conf');
  writeFileSync(conf, [`server_name: "bench"`, `listen: "127.0.0.1:${client}"`, `jetstream { store_dir: "${join(dir, 'js')}" }`, `mqtt { listen: "127.0.0.1:${mqtt}" }`].join('\n') + '\n');
  const child = spawn(bin, ['-c', conf], { stdio: 'ignore' });
  let exited = false;
  child.once('exit', () => (exited = true));
  const deadline = Date.now() + 15_000;
  while (!exited && Date.now() < deadline && !(await accepts(mqtt))) await sleep(50);
  const stop = async () => {
    if (!exited) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([gone, sleep(5_000)]);
      if (!exited) child.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  if (exited || !(await accepts(mqtt))) {
    await stop();
    throw new Error('nats-server did not start');
  }
  return { url: `mqtt://127.0.0.1:${mqtt}`, pid: child.pid!, rss: async () => procRss(child.pid!), stop };
}
