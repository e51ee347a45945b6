// Client-id takeover [cp-conn-6]: a second connection with a client id disconnects the first
// [MQTT-3.1.4-2], and a clean one wipes its session. With the shipped configuration no logged-in user
// can do that to anyone else: an observer that reuses an agent's (or, on aedes, a controller's) id in
// a loop causes no offline status, no unanswered ping and no lost queued command.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent, type Agent } from '../../agent/index.js';
import { brokerKinds, startBrokerKind, type TestBroker, type TestUser } from '../helpers/brokers.js';
import { connect, refusal } from './clients.js';

const users: TestUser[] = [
  { username: 'web-1', password: 'pw-agent', role: 'agent' },
  { username: 'ctl@ops', password: 'pw-ctl', role: 'controller' },
  { username: 'obs@dashboard', password: 'pw-obs', role: 'observer' },
];
const TAKEOVERS = 40;
const WAIT_MS = 5_000;

describe.each(brokerKinds())('client-id takeover on %s', (kind) => {
  let broker: TestBroker;
  let dir: string;
  let agent: Agent | undefined;
  let ctl: MqttClient;
  const offline: unknown[] = [];
  const results = new Map<string, any>();
  const ctlClosed: number[] = [];

  const startAgent = async () => {
    agent = createAgent({ broker: broker.url, name: 'web-1', username: 'web-1', password: 'pw-agent', stateDir: join(dir, 'state') });
    await agent.start();
  };
  const waitResult = async (id: string) => {
    const deadline = Date.now() + WAIT_MS;
    while (!results.has(id)) {
      if (Date.now() > deadline) throw new Error(`no result for ${id} within ${WAIT_MS} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return results.get(id);
  };
  /** The attack: an observer connects again and again with someone else's client id, clean session. */
  const hammer = async (clientId: string) => {
    for (let i = 0; i < TAKEOVERS; i++) {
      const c = await connect(broker.url, { username: 'obs@dashboard', password: 'pw-obs', clientId, clean: true }).catch(() => undefined);
      c?.end(true);
    }
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cp-takeover-'));
    broker = await startBrokerKind(kind, { users });
    ctl = await connect(broker.controllerUrl, { username: 'ctl@ops', password: 'pw-ctl', clientId: 'ctl-main', clean: false });
    ctl.on('close', () => ctlClosed.push(Date.now()));
    ctl.on('message', (topic, payload) => {
      const ev = JSON.parse(payload.toString() || 'null');
      if (topic === 'conplyent/web-1/status' && ev?.online === false) offline.push(ev);
      if (topic.startsWith('conplyent/web-1/job/') && (ev?.type === 'result' || ev?.type === 'error')) results.set(ev.job, ev);
    });
    await ctl.subscribeAsync('conplyent/#', { qos: 1 });
    await startAgent();
  });
  afterAll(async () => {
    ctl?.end(true);
    await agent?.stop();
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("an observer reusing an agent's client id knocks nothing off: no offline status, every ping answered", async () => {
    const attack = hammer('web-1');
    const pings = [0, 1, 2, 3, 4, 5].map(async (i) => {
      await new Promise((r) => setTimeout(r, i * 50));
      ctl.publish('conplyent/web-1/cmd', JSON.stringify({ id: `ping-${i}`, cmd: 'ping' }), { qos: 1 });
      return waitResult(`ping-${i}`);
    });
    await attack;
    const answered = await Promise.all(pings);
    expect(answered.map((r) => r.type)).toEqual(Array(6).fill('result'));
    expect(offline).toEqual([]);
  });

  it("a clean takeover cannot wipe an agent's queued commands", async () => {
    await agent!.stop();
    offline.length = 0;
    ctl.publish('conplyent/web-1/cmd', JSON.stringify({ id: 'queued-1', cmd: 'ping' }), { qos: 1 });
    await new Promise((r) => setTimeout(r, 200));
    await hammer('web-1');
    await startAgent();
    expect((await waitResult('queued-1')).type).toBe('result');
  });

  it("an observer cannot take over a controller's client id", async () => {
    await hammer('ctl-main');
    ctl.publish('conplyent/web-1/cmd', JSON.stringify({ id: 'after-ctl', cmd: 'ping' }), { qos: 1 });
    expect((await waitResult('after-ctl')).type).toBe('result');
    expect(ctlClosed).toEqual([]);
  });

  it('an agent still cannot log in under another client id', async () => {
    if (kind === 'aedes') {
      expect((await refusal(broker.url, { username: 'web-1', password: 'pw-agent', clientId: 'web-2' })).message).toMatch(/identifier/i);
    } else {
      // Mosquitto replaces the id with the user name instead of refusing it: the same protection.
      const c = await connect(broker.url, { username: 'web-1', password: 'pw-agent', clientId: 'web-2' });
      c.end(true);
    }
  });
});
