// Embedded brokers as child processes (test/fixtures/broker-main.mjs over the built dist/), for tests
// that kill one (SIGKILL) while others go on.
import { spawn, type ChildProcess } from 'node:child_process';
import { fixturePath } from './fixture-path.js';
import type { BrokerOptions } from '../../broker/index.js';

const MAIN = fixturePath('broker-main.mjs');

export interface BrokerProc {
  child: ChildProcess;
  url: string;
  output: () => string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts a broker process and resolves once it listens (bounded). */
export async function spawnBroker(options: Omit<BrokerOptions, 'logger'>, timeoutMs = 15_000): Promise<BrokerProc> {
  const child = spawn(process.execPath, [MAIN, JSON.stringify({ port: 0, ...options })], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  const port = await new Promise<number>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`broker did not listen in ${timeoutMs} ms: ${out}`)), timeoutMs);
    child.stdout!.on('data', () => {
      const m = /listening (\d+)\n/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve(Number(m[1]));
      }
    });
    void exited.then(() => {
      clearTimeout(t);
      reject(new Error(`broker exited before listening: ${out}`));
    });
  }).catch(async (e) => {
    await kill();
    throw e;
  });
  return { child, url: `mqtt://127.0.0.1:${port}`, output: () => out, kill };
}
