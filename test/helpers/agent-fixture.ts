// The setup most agent suites share: an embedded aedes broker on a loopback port, a wire client that
// knows only topics.md, and one agent, torn down again after the suite.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { createAgent, type Agent, type AgentOptions } from '../../agent/index.js';
import { connect, type Fleet } from '../../controller/index.js';
import type { AgentProc } from './agent-proc.js';
import { startAedes, startBrokerKind, type BrokerKind, type TestBroker } from './brokers.js';
import { connectWire, type Wire } from './wire.js';

export interface AgentFixture {
  broker: TestBroker;
  wire: Wire;
  agent: Agent;
  dir: string;
}

/**
 * Registers beforeAll/afterAll; read the returned object's fields inside tests. `setup` runs before
 * the agent starts (register custom commands there); the wire client is connected by then.
 */
export function agentOnAedes(name: string, options: Partial<AgentOptions> = {}, setup?: (f: AgentFixture) => void): AgentFixture {
  return agentOn(() => startAedes(), name, options, setup);
}

/** agentOnAedes on a broker of any kind; the wire client uses the controllers' URL. */
function agentOn(start: () => Promise<TestBroker>, name: string, options: Partial<AgentOptions> = {}, setup?: (f: AgentFixture) => void): AgentFixture {
  const f = {} as AgentFixture;
  beforeAll(async () => {
    f.dir = mkdtempSync(join(tmpdir(), `cp-${name}-`));
    f.broker = await start();
    f.wire = await connectWire(f.broker.controllerUrl);
    f.agent = createAgent({ broker: f.broker.url, name, stateDir: join(f.dir, 'state'), ...options });
    setup?.(f);
    await f.agent.start();
  });
  afterAll(() => tearDown(f));
  return f;
}

/** Stops what a fixture started, agent first, and removes its directory; missing parts are skipped. */
export async function tearDown(f: Partial<AgentFixture>): Promise<void> {
  await f.agent?.stop();
  await f.wire?.close();
  await f.broker?.stop();
  if (f.dir) rmSync(f.dir, { recursive: true, force: true });
}

/** agentOnAedes plus a controller connected to the same broker (closed first). */
export function fleetOnAedes(name: string, options: Partial<AgentOptions> = {}): AgentFixture & { fleet: Fleet } {
  return fleetOn('aedes', name, options);
}

/** fleetOnAedes on a broker of any kind (`describe.each(brokerKinds())`), once the controller sees the agent online. */
export function fleetOn(kind: BrokerKind, name: string, options: Partial<AgentOptions> = {}): AgentFixture & { fleet: Fleet } {
  const f = agentOn(() => startBrokerKind(kind), name, options) as AgentFixture & { fleet: Fleet };
  beforeAll(async () => {
    f.fleet = await connect(f.broker.controllerUrl, { awaitHosts: [name] });
  });
  afterAll(async () => {
    await f.fleet?.close();
  });
  return f;
}

export interface ProcFixture {
  broker: TestBroker;
  wire: Wire;
  dir: string;
  /** Agent processes the suite started: killed after it. */
  procs: AgentProc[];
}

/** A broker of `kind`, a wire client and a temp directory for suites that run agents as processes. */
export function procsOn(kind: BrokerKind, prefix: string): ProcFixture {
  const f = { procs: [] as AgentProc[] } as ProcFixture;
  beforeAll(async () => {
    f.dir = mkdtempSync(join(tmpdir(), `cp-${prefix}-`));
    f.broker = await startBrokerKind(kind);
    f.wire = await connectWire(f.broker.url);
  });
  afterAll(async () => {
    for (const p of f.procs) await p.kill();
    await f.wire?.close();
    await f.broker?.stop();
    if (f.dir) rmSync(f.dir, { recursive: true, force: true });
  });
  return f;
}
