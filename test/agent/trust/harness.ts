// A real agent with trusted keys (and optionally a policy) on a real broker, plus a wire client that
// signs like any controller would: what the exploit replays in this folder attack. Every attack is
// proved harmless twice: a marker file it would have created does not exist, and the agent's audit
// log holds the refusal.
import { existsSync, mkdtempSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { nanoid } from 'nanoid';
import { afterAll, beforeAll, expect } from 'vitest';
import { createAgent, type Agent, type AgentOptions } from '../../../agent/index.js';
import { lines } from '../../../agent/audit/files.js';
import { generateSigningKey, publicKeyText, signCommand, topics, type AuditRecord } from '../../../protocol/index.js';
import { tearDown } from '../../helpers/agent-fixture.js';
import { startBrokerKind, type BrokerKind, type TestBroker } from '../../helpers/brokers.js';
import { connectWire, type Wire } from '../../helpers/wire.js';

export interface TrustFixture {
  broker: TestBroker;
  wire: Wire;
  agent: Agent;
  /** realpath of the test's temporary directory. */
  dir: string;
  stateDir: string;
  host: string;
  /** A key the agent trusts, and one it has never heard of. */
  ops: { privateKey: KeyObject; pub: string };
  stranger: { privateKey: KeyObject; pub: string };
}

export interface FixtureOptions {
  /** Agent options beyond broker, name and stateDir; the ops key is trusted unless trustedKeys is given. */
  agent?: (f: TrustFixture) => Partial<AgentOptions>;
  /** Writes files (a policy, roots) before the agent starts. */
  prepare?: (f: TrustFixture) => void;
}

const TERMINAL = new Set(['result', 'error', 'lost']);

function key() {
  const { privateKey } = generateSigningKey();
  return { privateKey, pub: publicKeyText(privateKey) };
}

export function trustFixture(kind: BrokerKind, host: string, o: FixtureOptions = {}): TrustFixture {
  const f = { host, ops: key(), stranger: key() } as TrustFixture;
  beforeAll(async () => {
    f.dir = realpathSync(mkdtempSync(join(tmpdir(), `cp-trust-${host}-`)));
    f.stateDir = join(f.dir, 'state');
    f.broker = await startBrokerKind(kind);
    f.wire = await connectWire(f.broker.url);
    o.prepare?.(f);
    f.agent = createAgent({ broker: f.broker.url, name: host, stateDir: f.stateDir, trustedKeys: [f.ops.pub], requireSigned: true, ...o.agent?.(f) });
    await f.agent.start();
  });
  afterAll(() => tearDown(f));
  return f;
}

/** A command as a controller would sign it for `host`'s topic: with id and sentAt. */
export function signed(f: TrustFixture, cmd: Record<string, unknown>, by: KeyObject = f.ops.privateKey, topic = topics.cmd(f.host)) {
  return signCommand({ id: nanoid(), sentAt: Date.now(), ...cmd } as any, topic, by) as Record<string, any>;
}

/** Publishes and waits for the job's terminal event. */
export async function runJob(f: TrustFixture, env: Record<string, any>, topic = topics.cmd(f.host)): Promise<any> {
  f.wire.send(topic, env);
  const m = await f.wire.waitFor((m) => m.topic === topics.job(f.host, env.id) && TERMINAL.has(m.json?.type), 15_000, `the end of job ${env.id}`);
  return m.json;
}

/** Publishes and waits for the notice about job `id` on the errors topic [cp-sig-5]. */
export async function refusedNotice(f: TrustFixture, env: Record<string, any> | string, id: string, topic = topics.cmd(f.host)): Promise<any> {
  f.wire.send(topic, env);
  const m = await f.wire.waitFor((m) => m.topic === topics.errors(f.host) && m.json?.job === id && m.json?.type === 'error', 10_000, `the notice about ${id}`);
  return m.json;
}

/** The audit records of job `id`, read synchronously from the files (the agent's query streams them). */
export function auditOf(f: TrustFixture, id: string): AuditRecord[] {
  return [...lines(join(f.stateDir, 'audit'))].flatMap((l) => (l.record?.job === id ? [l.record] : []));
}

/** The refusal of job `id` is on record in the audit log with this code. */
export function expectAuditedRefusal(f: TrustFixture, id: string, code: string): void {
  const recs = auditOf(f, id);
  expect(recs.map((r) => [r.kind, r.accepted, r.code]), `audit of ${id}`).toContainEqual(['decision', false, code]);
  expect(recs.some((r) => r.accepted === true), `job ${id} must never have been accepted`).toBe(false);
}

/** No event was ever published on the job's topic (a forgery never gets one [cp-sig-5]). */
export function expectNoJobEvents(f: TrustFixture, id: string): void {
  expect(f.wire.jobEvents(f.host, id)).toEqual([]);
}

/** A fresh path in the test directory that an attack would create. */
export function marker(f: TrustFixture, name = 'pwned'): string {
  const p = join(f.dir, `${name}-${nanoid(6)}`);
  expect(existsSync(p)).toBe(false);
  return p;
}

export function writeJson(path: string, value: unknown): void {
  writeFileSync(path, JSON.stringify(value, null, 2));
}
