// controller/withdraw.ts reaches into mqtt.js 5 internals (client.js: the store-replay queue and its
// handled-id map, the outgoing table) because mqtt.js has no public way to take back a publish still
// waiting behind a reconnect's replay. These tests fail loudly when an mqtt.js upgrade renames them,
// instead of letting withdrawals silently report a command as never sent.
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeldPublish } from '../../controller/withdraw.js';
import { startAedes, type TestBroker } from '../helpers/brokers.js';
import { until } from '../helpers/until.js';

type Internals = {
  _storeProcessing?: boolean;
  _storeProcessingQueue?: { callback?: unknown }[];
  _packetIdsDuringStoreProcessing?: Record<number, boolean>;
};

describe('the mqtt.js internals a withdrawal relies on', () => {
  let broker: TestBroker;
  let client: MqttClient;

  beforeAll(async () => {
    broker = await startAedes();
    client = mqtt.connect(broker.url, { reconnectPeriod: 0 });
    await until('client connected', () => client.connected);
  });
  afterAll(async () => {
    await client?.endAsync();
    await broker?.stop();
  });

  it('exist on a real MqttClient, with the shapes withdraw.ts reads', () => {
    const c = client as unknown as Internals;
    expect(typeof c._storeProcessing).toBe('boolean');
    expect(Array.isArray(c._storeProcessingQueue)).toBe(true);
    expect(typeof c._packetIdsDuringStoreProcessing).toBe('object');
    expect(typeof client.outgoing).toBe('object');
    expect(typeof client.removeOutgoingMessage).toBe('function');
    expect(typeof client.messageIdProvider.getLastAllocated).toBe('function');
  });

  it('a publish made during a store replay waits in the queue under its callback', () => {
    const c = client as unknown as Internals;
    c._storeProcessing = true; // as between a CONNACK and the end of the replay
    const cb = () => {};
    try {
      client.publish('cp/test/internals', 'x', { qos: 1 }, cb);
      expect(c._storeProcessingQueue?.map((q) => q.callback)).toEqual([cb]);
    } finally {
      c._storeProcessing = false;
      c._storeProcessingQueue?.splice(0);
    }
  });

  it('a withdrawal that cannot find the queue says maybe-sent, never never-sent', async () => {
    const c = client as unknown as Internals & { renamedQueue?: unknown };
    c._storeProcessing = true;
    const queue = c._storeProcessingQueue;
    try {
      const held = new HeldPublish(client, 'cp/test/internals', Buffer.from('x'));
      held.done.catch(() => {});
      // As if an upgrade renamed the queue: the publish waits where withdraw.ts cannot see it.
      c.renamedQueue = queue;
      delete c._storeProcessingQueue;
      expect(held.withdraw()).toBe('maybe-sent');
    } finally {
      c._storeProcessingQueue = queue;
      delete c.renamedQueue;
      c._storeProcessing = false;
      queue?.splice(0);
    }
  });
});
