// Agents as child processes (test/fixtures/agent-main.mjs over the built dist/), for kill -9 and restart tests.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { fixturePath } from './fixture-path.js';

const MAIN = fixturePath('agent-main.mjs');

export interface AgentProc {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts an agent process and resolves once it says it is online (bounded). `as` runs it as another user (uid, gid). */
export async function spawnAgent(options: Record<string, unknown>, timeoutMs = 15_000, as?: Pick<SpawnOptions, 'uid' | 'gid'>): Promise<AgentProc> {
  const child = spawn(process.execPath, [MAIN, JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'pipe'], ...as });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`agent did not come online in ${timeoutMs} ms: ${out}`)), timeoutMs);
    const check = () => {
      if (out.includes('online\n')) {
        clearTimeout(t);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(t);
      reject(new Error(`agent exited with ${code} before coming online: ${out}`));
    });
  });
  return {
    child,
    output: () => out,
    exited,
    async kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
    },
  };
}
