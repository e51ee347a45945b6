// Parent side of bench/worker.ts: fork, start, ask for RSS, stop. Every wait is bounded.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { AgentOptions } from '../../agent/index.js';
import type { FromWorker, ToWorker, WorkerSpec } from '../worker.js';
import { within } from './stats.js';

const WORKER = fileURLToPath(new URL('../worker.js', import.meta.url));

export interface WorkerHandle {
  child: ChildProcess;
  ready: Extract<FromWorker, { op: 'ready' }>;
  rss(): Promise<{ rss: number; heapUsed: number }>;
  /** blast workers: publish now; resolves with the bytes published once all are acknowledged. */
  go(timeoutMs: number): Promise<number>;
  stop(): Promise<void>;
}

function next<T extends FromWorker['op']>(child: ChildProcess, op: T): Promise<Extract<FromWorker, { op: T }>> {
  return new Promise((resolve, reject) => {
    const onMsg = (m: FromWorker) => {
      if (m.op === 'error') {
        cleanup();
        reject(new Error(`bench worker failed: ${m.message}`));
      } else if (m.op === op) {
        cleanup();
        resolve(m as Extract<FromWorker, { op: T }>);
      }
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`bench worker exited (${code}) before "${op}"`));
    };
    const cleanup = () => {
      child.off('message', onMsg);
      child.off('exit', onExit);
    };
    child.on('message', onMsg);
    child.once('exit', onExit);
  });
}

/** Forks a worker and starts it; resolves when it reports ready (within `timeoutMs`). */
export async function startWorker(spec: WorkerSpec, timeoutMs = 120_000): Promise<WorkerHandle> {
  // CONPLYENT_BENCH_CPU_PROF=DIR: each worker (the agents) writes a V8 CPU profile there when it stops.
  const prof = process.env.CONPLYENT_BENCH_CPU_PROF;
  const execArgv = ['--expose-gc', ...(prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : [])];
  const child = fork(WORKER, [], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const send = (m: ToWorker) => child.send(m);
  const ready = next(child, 'ready');
  send({ op: 'start', spec });
  let r: Extract<FromWorker, { op: 'ready' }>;
  try {
    r = await within(ready, timeoutMs, `bench worker (${spec.kind}) to start`);
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  return {
    child,
    ready: r,
    async rss() {
      const p = next(child, 'rss');
      send({ op: 'rss' });
      const m = await within(p, 10_000, 'worker RSS');
      return { rss: m.rss, heapUsed: m.heapUsed };
    },
    async go(timeoutMs: number) {
      const p = next(child, 'went');
      send({ op: 'go' });
      return (await within(p, timeoutMs, 'raw publisher')).bytes;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      send({ op: 'stop' });
      await within(exited, 10_000, 'bench worker to stop').catch(() => child.kill('SIGKILL'));
    },
  };
}

/** Splits `names` over `procs` agent workers and starts them together. */
export async function startAgents(url: string, names: string[], stateRoot: string, procs: number, agentOptions?: Partial<AgentOptions>): Promise<WorkerHandle[]> {
  const groups = split(names, procs);
  // Long keepalive unless asked otherwise: at 1000 agents on 2 cores PINGREQs are noise.
  const keepaliveSec = agentOptions?.keepaliveSec ?? 600;
  return Promise.all(groups.map((g) => startWorker({ kind: 'agents', url, names: g, stateRoot, keepaliveSec, concurrency: 50, agentOptions })));
}

/** N raw echo clients spread over `procs` workers. */
export async function startEchoes(url: string, count: number, prefix: string, procs: number, subs = 1, noNumberTable = false): Promise<WorkerHandle[]> {
  const sizes = split(Array.from({ length: count }, (_, i) => i), procs).map((g) => g.length);
  return Promise.all(sizes.map((n) => startWorker({ kind: 'echo', url, count: n, prefix, keepaliveSec: 600, concurrency: 50, subs, noNumberTable })));
}

export function split<T>(items: readonly T[], parts: number): T[][] {
  const n = Math.max(1, Math.min(parts, items.length));
  const out: T[][] = Array.from({ length: n }, () => []);
  items.forEach((it, i) => out[i % n].push(it));
  return out;
}

export async function stopAll(ws: readonly WorkerHandle[]): Promise<void> {
  await Promise.all(ws.map((w) => w.stop()));
}

/** N lean simulated agents (bench/lib/lean-agent.ts) spread over `procs` workers. */
export async function startLeanAgents(url: string, names: string[], procs: number, timeoutMs: number): Promise<WorkerHandle[]> {
  // A worker past its timeout is killed; the others of a failed step are stopped: nothing is left running.
  const started = await Promise.allSettled(split(names, procs).map((g) => startWorker({ kind: 'lean', url, names: g, concurrency: 50 }, timeoutMs)));
  const ok = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await stopAll(ok);
    throw failed.reason;
  }
  return ok;
}
