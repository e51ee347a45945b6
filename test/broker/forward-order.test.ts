// A retained message followed at once by ordinary ones reaches every subscriber. aedes numbers
// each publish when it arrives but lets a retained one wait for its store write while later ones
// go straight through, and then dropped the earlier number as a duplicate (moscajs/aedes#994): on
// a broker with a data directory every retained status in this test was lost, and on the Redis
// pair an agent's "online" never reached the controller (broker/forward-dedupe.ts). Overlapping
// subscriptions, which that check exists for, still get one copy.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterKinds, isClustered, startBrokerKind, type TestBroker } from '../helpers/brokers.js';
import { until } from '../helpers/until.js';
import { connect, inbox } from './clients.js';

const N = 200;

describe.each(clusterKinds())('delivery order on %s', (kind) => {
  const dir = mkdtempSync(join(tmpdir(), `conplyent-order-${kind}-`));
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startBrokerKind(kind, isClustered(kind) ? {} : { persistenceDir: dir });
  }, 60_000);
  afterAll(async () => {
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('every retained status and every job event published between them arrives', async () => {
    const sub = await connect(broker.controllerUrl, { clientId: `order-sub-${kind}`, clean: false });
    const pub = await connect(broker.url, { clientId: `order-pub-${kind}` });
    try {
      await sub.subscribeAsync('conplyent/ord-1/status', { qos: 1 });
      await sub.subscribeAsync('conplyent/ord-1/job/j1', { qos: 1 });
      for (let i = 0; i < N; i++) {
        pub.publish('conplyent/ord-1/status', `s${i}`, { qos: 1, retain: true });
        pub.publish('conplyent/ord-1/job/j1', `e${i}`, { qos: 1 });
      }
      const { got } = inbox(sub);
      const count = (t: string) => got.filter((m) => m.topic === t).length;
      await until(`${N} statuses and ${N} events`, () => count('conplyent/ord-1/status') >= N && count('conplyent/ord-1/job/j1') >= N, 20_000).catch(() => undefined);
      const statuses = new Set(got.filter((m) => m.topic === 'conplyent/ord-1/status').map((m) => m.payload));
      const events = new Set(got.filter((m) => m.topic === 'conplyent/ord-1/job/j1').map((m) => m.payload));
      expect(N - statuses.size, 'retained statuses lost').toBe(0);
      expect(N - events.size, 'job events lost').toBe(0);
    } finally {
      await pub.endAsync();
      await sub.endAsync();
    }
  }, 60_000);

  it('a message that matches two subscriptions of one client still comes once', async () => {
    if (kind !== 'aedes' && kind !== 'redis') return; // the broker's own choice elsewhere (MQTT-3.3.5-1 allows a copy per subscription)
    const sub = await connect(broker.controllerUrl, { clientId: `overlap-sub-${kind}` });
    const pub = await connect(broker.url, { clientId: `overlap-pub-${kind}` });
    try {
      await sub.subscribeAsync('conplyent/ord-2/#', { qos: 1 });
      await sub.subscribeAsync('conplyent/ord-2/job/j2', { qos: 1 });
      await pub.publishAsync('conplyent/ord-2/job/j2', 'once', { qos: 1 });
      await pub.publishAsync('conplyent/ord-2/job/j2', 'end', { qos: 1 });
      const { got } = inbox(sub);
      await until('the second message', () => got.some((m) => m.payload === 'end'), 10_000);
      // Both copies of one message leave the broker together; the later message proves they are in.
      expect(got.filter((m) => m.payload === 'once')).toHaveLength(1);
    } finally {
      await pub.endAsync();
      await sub.endAsync();
    }
  });
});
