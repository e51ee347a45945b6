// Only presence is retained [cp-mqtt-2, cp-topic-3, cp-topic-5]. An agent's job events and notices
// are never retained by the embedded broker, so one compromised or buggy agent cannot fill the
// retained store (one message of up to 1 MiB per invented job id) without bound.
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '../../protocol/index.js';
import { startAedes, type TestBroker, type TestUser } from '../helpers/brokers.js';
import { connect, inbox } from './clients.js';

const users: TestUser[] = [
  { username: 'host-r', password: 'pw-r', role: 'agent' },
  { username: 'ops', password: 'pw-ops', role: 'controller' },
];

describe('retained messages on the embedded broker', () => {
  let broker: TestBroker;
  const open: MqttClient[] = [];
  const client = async (username: string, password: string, clientId = username) => {
    const c = await connect(broker.url, { username, password, clientId });
    open.push(c);
    return c;
  };
  beforeAll(async () => {
    broker = await startAedes({ users });
  });
  afterAll(async () => {
    for (const c of open) c.end(true);
    await broker?.stop();
  });

  it('[cp-topic-3] an agent publishing job events and notices with retain: delivered live, never stored as retained', async () => {
    const live = await client('ops', 'pw-ops', 'ops-live');
    await live.subscribeAsync('conplyent/host-r/#', { qos: 1 });
    const a = await client('host-r', 'pw-r');
    await a.publishAsync(topics.job('host-r', 'j1'), '{"x":1}', { qos: 1, retain: true });
    await a.publishAsync(topics.errors('host-r'), '{"x":2}', { qos: 1, retain: true });
    await a.publishAsync(topics.status('host-r'), '{"x":3}', { qos: 1, retain: true });
    await inbox(live).waitFor(topics.job('host-r', 'j1'));
    await inbox(live).waitFor(topics.errors('host-r'));
    const late = await client('ops', 'pw-ops', 'ops-late');
    const box = inbox(late);
    await late.subscribeAsync('conplyent/host-r/#', { qos: 1 });
    await box.waitFor(topics.status('host-r'));
    await new Promise((r) => setTimeout(r, 300));
    expect(box.topics()).toEqual([topics.status('host-r')]);
  });
});
