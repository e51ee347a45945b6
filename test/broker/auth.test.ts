// Users and roles on both brokers: the embedded one (broker/acl.ts) and Mosquitto with deploy's ACL;
// also on the embedded pair sharing Redis (the same users file and ACL, two processes). NATS has its
// own permission model, checked in test/broker/deploy-nats.test.ts.
import type { MqttClient } from 'mqtt';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser, DENIED_SINK, removeUser, startBroker } from '../../broker/index.js';
import { topics } from '../../protocol/index.js';
import { brokerKinds, clusteredKinds, startBrokerKind, type TestBroker, type TestUser } from '../helpers/brokers.js';
import { connect, inbox, refusal, subscribeGranted } from './clients.js';

const users: TestUser[] = [
  { username: 'host-a', password: 'pw-a', role: 'agent' },
  { username: 'host-b', password: 'pw-b', role: 'agent' },
  { username: 'ops', password: 'pw-ops', role: 'controller' },
  { username: 'watcher', password: 'pw-w', role: 'observer' },
];
const login = (name: string, clientId = name) => ({ username: name, password: users.find((u) => u.username === name)!.password, clientId });

describe.each([...brokerKinds(), ...clusteredKinds().filter((k) => k === 'redis')])('authentication and roles on %s', (kind) => {
  let broker: TestBroker;
  const open: MqttClient[] = [];
  const client = async (name: string, clientId?: string, extra = {}) => {
    const c = await connect(broker.url, { ...login(name, clientId), ...extra });
    open.push(c);
    return c;
  };
  beforeAll(async () => {
    broker = await startBrokerKind(kind, { users });
  });
  afterAll(async () => {
    for (const c of open) c.end(true);
    await broker?.stop();
  });

  it('refuses a connection without user name', async () => {
    expect((await refusal(broker.url, { clientId: 'anon' })).message).toMatch(/authori|password/i);
  });

  it('refuses a wrong password', async () => {
    expect((await refusal(broker.url, { username: 'host-a', password: 'nope', clientId: 'host-a' })).message).toMatch(/authori|password/i);
  });

  it('refuses an unknown user', async () => {
    await refusal(broker.url, { username: 'mallory', password: 'x', clientId: 'mallory' });
  });

  it('lets a controller publish commands and read job events', async () => {
    const ops = await client('ops', 'ops-1');
    const a = await client('host-a');
    const aIn = inbox(a);
    const opsIn = inbox(ops);
    await a.subscribeAsync(topics.cmd('host-a'), { qos: 1 });
    await ops.subscribeAsync(topics.jobsOfHost('host-a'), { qos: 1 });
    await ops.publishAsync(topics.cmd('host-a'), 'exec uptime', { qos: 1 });
    await aIn.waitFor(topics.cmd('host-a'), 'exec uptime');
    await a.publishAsync(topics.job('host-a', 'j1'), '{"type":"result"}', { qos: 1 });
    await opsIn.waitFor(topics.job('host-a', 'j1'));
  });

  it("denies an agent's subscription to another host's cmd topic", async () => {
    const a = await client('host-a');
    const ops = await client('ops', 'ops-2');
    const aIn = inbox(a);
    const granted = await subscribeGranted(a, [topics.cmd('host-b'), topics.cmd('host-a')]);
    // aedes grants 128 (failure) [MQTT-3.9.3-2]; Mosquitto 2.0 grants and then never delivers. Either way: no messages.
    if (kind !== 'mosquitto') expect(granted).toEqual([128, 1]);
    await ops.publishAsync(topics.cmd('host-b'), 'exec secret', { qos: 1 });
    // Same publisher, same subscriber: once the later message arrives, the earlier one would have too.
    await ops.publishAsync(topics.cmd('host-a'), 'sentinel', { qos: 1 });
    await aIn.waitFor(topics.cmd('host-a'), 'sentinel');
    expect(aIn.topics()).not.toContain(topics.cmd('host-b'));
  });

  it('denies an agent wildcard subscriptions to everything', async () => {
    const a = await client('host-a');
    const b = await client('host-b');
    const aIn = inbox(a);
    const granted = await subscribeGranted(a, ['conplyent/#', '#', topics.status('host-a')]);
    if (kind !== 'mosquitto') expect(granted).toEqual([128, 128, 1]);
    await b.publishAsync(topics.job('host-b', 'j2'), 'private', { qos: 1 });
    await a.publishAsync(topics.status('host-a'), 'sentinel', { qos: 1 });
    await aIn.waitFor(topics.status('host-a'), 'sentinel');
    expect(aIn.topics()).not.toContain(topics.job('host-b', 'j2'));
  });

  it("drops an agent's publish into another host's job topic and keeps serving it", async () => {
    const a = await client('host-a');
    const ops = await client('ops', 'ops-3');
    const opsIn = inbox(ops);
    await ops.subscribeAsync('conplyent/#', { qos: 1 });
    await a.publishAsync(topics.job('host-b', 'forged'), '{"type":"result","code":0}', { qos: 1 });
    await a.publishAsync(topics.status('host-b'), 'forged presence', { qos: 1, retain: true });
    await a.publishAsync(topics.job('host-a', 'real'), 'sentinel', { qos: 1 });
    await opsIn.waitFor(topics.job('host-a', 'real'), 'sentinel');
    expect(opsIn.topics()).not.toContain(topics.job('host-b', 'forged'));
    expect(opsIn.topics()).not.toContain(topics.status('host-b'));
    expect(a.connected).toBe(true);
  });

  it('drops commands published by an agent or an observer', async () => {
    const a = await client('host-a');
    const w = await client('watcher', 'watcher-1');
    const b = await client('host-b');
    const bIn = inbox(b);
    await b.subscribeAsync(topics.cmd('host-b'), { qos: 1 });
    await a.publishAsync(topics.cmd('host-b'), 'exec rm -rf /', { qos: 1 });
    await w.publishAsync(topics.fleetCmd(), 'exec reboot', { qos: 1 });
    const ops = await client('ops', 'ops-4');
    await ops.publishAsync(topics.cmd('host-b'), 'sentinel', { qos: 1 });
    await bIn.waitFor(topics.cmd('host-b'), 'sentinel');
    expect(bIn.got.map((m) => m.payload)).toEqual(['sentinel']);
  });

  it("never publishes an agent's Will on another host's status topic", async () => {
    const ops = await client('ops', 'ops-5');
    const opsIn = inbox(ops);
    await ops.subscribeAsync(topics.allStatus(), { qos: 1 });
    const will = { topic: topics.status('host-b'), payload: Buffer.from('forged offline'), qos: 1 as const, retain: true };
    let a: MqttClient | undefined;
    try {
      a = await connect(broker.url, { ...login('host-a'), will });
    } catch {
      // Refused at CONNECT: the embedded broker checks the Will there (brokers that did not let Wills skip the ACL: aedes #211, EMQX #1230).
    }
    if (kind !== 'mosquitto') expect(a).toBeUndefined();
    if (a) {
      // Accepted: the Will must still never be published. Drop the link without DISCONNECT so the Will fires.
      a.stream.destroy();
      await new Promise((r) => setTimeout(r, 300));
    }
    const b = await client('host-b');
    await b.publishAsync(topics.status('host-b'), 'sentinel', { qos: 1 });
    await opsIn.waitFor(topics.status('host-b'), 'sentinel');
    expect(opsIn.got.map((m) => m.payload)).not.toContain('forged offline');
  });

  it("accepts an agent's Will on its own status topic", async () => {
    const will = { topic: topics.status('host-a'), payload: Buffer.from('offline'), qos: 1 as const, retain: true };
    const a = await connect(broker.url, { ...login('host-a'), will });
    await a.endAsync();
  });

  it('lets an observer read but not publish', async () => {
    const w = await client('watcher', 'watcher-2');
    const wIn = inbox(w);
    await w.subscribeAsync('conplyent/+/status', { qos: 1 });
    const a = await client('host-a');
    await a.publishAsync(topics.status('host-a'), 'seen', { qos: 1 });
    await wIn.waitFor(topics.status('host-a'), 'seen');
  });
});

describe('client-id takeover on the embedded broker', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startBrokerKind('aedes', { users });
  });
  afterAll(async () => broker?.stop());

  it("refuses an agent whose client id is not its own name; others asking for it get their own namespace; the victim stays [cp-conn-6]", async () => {
    const b = await connect(broker.url, login('host-b'));
    await refusal(broker.url, login('host-a', 'host-b'));
    // Served as `ops/host-b` and `watcher/host-b`: accepted, and nobody else's id.
    for (const name of ['ops', 'watcher']) (await connect(broker.url, login(name, 'host-b'))).end(true);
    await new Promise((r) => setTimeout(r, 100));
    expect(b.connected).toBe(true);
    await b.endAsync();
  });
});

describe('Wills restored from persistence on the embedded broker', () => {
  it('publishes a restored Will only on the status topic of the agent it belongs to (aedes #767)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'conplyent-will-'));
    await addUser(join(dir, 'users.json'), 'host-a', 'agent', 'pw');
    const broker = await startBroker({ port: 0, usersFile: join(dir, 'users.json') });
    try {
      // After a restart aedes publishes wills of dead brokers with client null (aedes.js _clearWills).
      const authorize = (packet: Record<string, unknown>) =>
        new Promise<Record<string, unknown>>((resolve, reject) =>
          (broker.aedes as any).authorizePublish(null, packet, (err?: Error | null) => (err ? reject(err) : resolve(packet))),
        );
      expect((await authorize({ topic: topics.status('host-a'), clientId: 'host-a', payload: Buffer.alloc(0) })).topic).toBe(topics.status('host-a'));
      expect((await authorize({ topic: topics.status('host-b'), clientId: 'host-a', payload: Buffer.alloc(0), retain: true })).topic).toBe(DENIED_SINK);
      expect((await authorize({ topic: topics.status('host-a'), clientId: 'stranger', payload: Buffer.alloc(0) })).topic).toBe(DENIED_SINK);
    } finally {
      await broker.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('users file changes on a running embedded broker', () => {
  it('lets a user added after start connect, and refuses a removed one, without a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'conplyent-reload-'));
    const file = join(dir, 'users.json');
    await addUser(file, 'ops', 'controller', 'pw');
    const broker = await startBroker({ port: 0, usersFile: file });
    try {
      await refusal(broker.url, { username: 'late-host', password: 'pw2', clientId: 'late-host' });
      await addUser(file, 'late-host', 'agent', 'pw2');
      const c = await connect(broker.url, { username: 'late-host', password: 'pw2', clientId: 'late-host' });
      await c.endAsync();
      await removeUser(file, 'late-host');
      await refusal(broker.url, { username: 'late-host', password: 'pw2', clientId: 'late-host' });
    } finally {
      await broker.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
