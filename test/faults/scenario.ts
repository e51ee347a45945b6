// What the fault scenarios share: in-process agents with short keepalive and backoff, a paced
// line counter, stream checks by the contract's rules (dedupe by seq, one terminal), and figures.
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { createAgent, type Agent, type AgentOptions } from '../../agent/index.js';
import { startBrokerKind, type BrokerKind, type TestBroker } from '../helpers/brokers.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { connectWire, type Wire } from '../helpers/wire.js';

/** Short enough that a scenario takes seconds; long enough for a loaded 2-core runner. */
export const KEEPALIVE_SEC = 2;

export function testAgent(o: Omit<AgentOptions, 'keepaliveSec'> & { keepaliveSec?: number }): Agent {
  const agent = createAgent({ keepaliveSec: KEEPALIVE_SEC, reconnectMinMs: 100, reconnectMaxMs: 1_000, ...o });
  // `count N [every pauseMs]`: lines 1..N, one output event each, pausing pauseMs every `every` lines.
  agent.registerBackgroundCommand('count', async (ctx) => {
    const [n, every, pauseMs] = (ctx.args as unknown[]).map(Number);
    for (let i = 1; i <= n && !ctx.signal.aborted; i++) {
      await ctx.write('stdout', `${i}\n`);
      if (every && pauseMs && i % every === 0) await new Promise((r) => setTimeout(r, pauseMs));
    }
    return n;
  });
  return agent;
}

/** Resolves with the time of the next `event` (bounded). */
export function nextEvent(em: EventEmitter, event: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      em.off(event, on);
      reject(new Error(`no '${event}' within ${timeoutMs} ms`));
    }, timeoutMs);
    const on = () => {
      clearTimeout(t);
      resolve(Date.now());
    };
    em.once(event, on);
  });
}

export async function waitUntil(pred: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const TERMINAL = new Set(['result', 'error', 'lost']);

export interface StreamCheck {
  /** Events as received, including broker redeliveries. */
  received: number;
  /** Redeliveries dropped by seq, as every receiver must [cp-evt-1]. */
  duplicates: number;
  /** Seqs below the terminal that never arrived. */
  missingSeqs: number;
  terminals: number;
  /** Events whose seq arrived lower than one already seen (out of order on the wire). */
  outOfOrder: number;
  gaps: any[];
  /** stdout of the deduplicated stream, in seq order. */
  stdout: string;
}

/** Reads a job's stream the way the contract tells receivers to. */
export function checkStream(events: any[]): StreamCheck {
  const bySeq = new Map<number, any>();
  let duplicates = 0;
  let outOfOrder = 0;
  let top = -1;
  for (const e of events) {
    if (bySeq.has(e.seq)) {
      duplicates++;
      continue;
    }
    if (e.seq < top) outOfOrder++;
    top = Math.max(top, e.seq);
    bySeq.set(e.seq, e);
  }
  const ordered = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
  let missingSeqs = 0;
  for (let s = 0; s <= top; s++) if (!bySeq.has(s)) missingSeqs++;
  return {
    received: events.length,
    duplicates,
    missingSeqs,
    terminals: ordered.filter((e) => TERMINAL.has(e.type)).length,
    outOfOrder,
    gaps: ordered.filter((e) => e.type === 'gap'),
    stdout: ordered.filter((e) => e.type === 'output' && e.stream === 'stdout').map((e) => e.data).join(''),
  };
}

/** Lines 1..n that are missing, and lines seen more than once, in a `count` output. */
export function countLines(stdout: string, n: number): { lost: number; twice: number; inOrder: boolean } {
  const lines = stdout.split('\n').filter(Boolean).map(Number);
  const seen = new Map<number, number>();
  for (const l of lines) seen.set(l, (seen.get(l) ?? 0) + 1);
  let lost = 0;
  for (let i = 1; i <= n; i++) if (!seen.has(i)) lost++;
  const twice = [...seen.values()].filter((c) => c > 1).length;
  return { lost, twice, inOrder: lines.every((l, i) => i === 0 || l > lines[i - 1]) };
}

/** One line per scenario, for people reading the test log and for comparing runs. */
export function figures(scenario: string, f: Record<string, unknown>): void {
  console.log(`[faults] ${scenario}: ${Object.entries(f).map(([k, v]) => `${k}=${v}`).join(' ')}`);
}

/** What a proxied-agent suite works with; filled in by its beforeAll. */
export interface ProxiedAgent {
  broker: TestBroker;
  proxy: FaultProxy;
  wire: Wire;
  agent: Agent;
  dir: string;
}

/**
 * Registers beforeAll/afterAll for the usual fault setup: a broker of `kind`, a fault proxy in front
 * of it, a wire client on the broker directly (on a cluster: on the controllers' node, so what the
 * agent sends crosses the cluster), and one test agent that reaches the broker only through the
 * proxy. Read the returned object's fields inside tests.
 */
export function proxiedAgent(kind: BrokerKind, name: string, extra: Partial<AgentOptions> = {}): ProxiedAgent {
  const ctx = {} as ProxiedAgent;
  beforeAll(async () => {
    ctx.dir = mkdtempSync(join(tmpdir(), `cp-${name}-`));
    ctx.broker = await startBrokerKind(kind);
    ctx.proxy = await startFaultProxy(ctx.broker.port);
    ctx.wire = await connectWire(ctx.broker.controllerUrl);
    ctx.agent = testAgent({ broker: ctx.proxy.url, name, stateDir: join(ctx.dir, name), ...extra });
    await ctx.agent.start();
  });
  afterAll(async () => {
    await ctx.agent?.stop();
    await ctx.wire?.close();
    await ctx.proxy?.close();
    await ctx.broker?.stop();
    if (ctx.dir) rmSync(ctx.dir, { recursive: true, force: true });
  });
  return ctx;
}
