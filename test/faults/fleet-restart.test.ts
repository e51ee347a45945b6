// Broker restart: 200 agents, the broker restarts (losing every session): all come back
// online, resubscribe (sessionPresent false), and their reconnects are spread by the full jitter
// instead of stampeding the broker in the same millisecond.
// Not on the clusters: the spread is the agents' own backoff, the same whatever serves them, and 200
// persistent sessions cost a NATS cluster a JetStream consumer each (minutes on 2 cores); the
// clusters' own restart stories are node-kill.test.ts and offline-queue.test.ts (docs/scale.md).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from '../../agent/index.js';
import { brokerKinds, startBrokerKind, type TestBroker } from '../helpers/brokers.js';
import { connectWire, type Wire } from '../helpers/wire.js';
import { figures, testAgent, waitUntil } from './scenario.js';

const AGENTS = 200;
/** Closer to the defaults (500 ms .. 30 s) than the other scenarios, so the spread means something. */
const BACKOFF = { reconnectMinMs: 500, reconnectMaxMs: 4_000 };

describe.each(brokerKinds())('a fleet of %s agents across a broker restart', (kind) => {
  let broker: TestBroker;
  let wire: Wire | undefined;
  let dir: string;
  const agents: Agent[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cp-fleet-'));
    broker = await startBrokerKind(kind);
    for (let i = 0; i < AGENTS; i++) {
      agents.push(testAgent({ broker: broker.url, name: `f-${i}`, stateDir: join(dir, `f-${i}`), keepaliveSec: 10, ...BACKOFF }));
    }
    // In batches: the first connect is not what this scenario measures.
    for (let i = 0; i < AGENTS; i += 50) await Promise.all(agents.slice(i, i + 50).map((a) => a.start()));
  }, 60_000);
  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    await wire?.close();
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it(`${AGENTS} agents are all online again after a broker restart, their reconnects spread by jitter`, async () => {
    const onlineAt = new Map<string, number>();
    for (const a of agents) a.on('online', () => onlineAt.set(a.name, Date.now()));
    const restartAt = Date.now();
    await broker.restart();
    const upAt = Date.now();
    await waitUntil(() => onlineAt.size === AGENTS, 20_000, `all ${AGENTS} agents online (${onlineAt.size} so far)`);
    const allBackAt = Date.now();

    // Presence says so too: a fresh subscriber gets every retained status, each online.
    wire = await connectWire(broker.url);
    const latest = () => {
      const m = new Map<string, any>();
      for (const msg of wire!.messages) if (msg.topic.endsWith('/status')) m.set(msg.json.host, msg.json);
      return m;
    };
    await waitUntil(() => [...latest().values()].filter((p) => p.online).length === AGENTS, 10_000, 'every retained status online');

    // Measured from the moment the broker went down: Mosquitto may accept before restart() returns.
    const times = [...onlineAt.values()].map((t) => t - restartAt).sort((a, b) => a - b);
    const p = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))];
    /** The most reconnects that landed within any 10 ms window. */
    const within10 = Math.max(...times.map((t) => times.filter((u) => u >= t && u < t + 10).length));
    figures(`fleet-restart/${kind}`, {
      agents: AGENTS,
      online: [...latest().values()].filter((s) => s.online).length,
      brokerRestartMs: upAt - restartAt,
      firstOnlineMs: p(0),
      p50OnlineMs: p(0.5),
      p90OnlineMs: p(0.9),
      lastOnlineMs: times[times.length - 1],
      spreadMs: times[times.length - 1] - times[0],
      mostIn10ms: within10,
      allBackAfterBrokerUpMs: allBackAt - upAt,
    });
    expect(times[times.length - 1] - times[0]).toBeGreaterThan(0);
    expect(within10).toBeLessThan(AGENTS);
  }, 45_000);
});
