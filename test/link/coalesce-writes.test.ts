// The acks of a burst of QoS 1 messages leave in a few socket writes, not one each
// (link/mqtt-options.ts coalesceWrites): a real aedes, a real mqtt.js client, and the socket's own
// write calls counted.
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coalesceWrites, keepNoDelay } from '../../link/mqtt-options.js';
import { startAedes, type TestBroker } from '../helpers/brokers.js';
import { until } from '../helpers/until.js';

const BURST = 200;

let broker: TestBroker;
beforeAll(async () => {
  broker = await startAedes();
});
afterAll(async () => {
  await broker.stop();
});

/** A subscriber that counts the write(2)s its socket makes while a burst of QoS 1 messages arrives. */
async function writesForBurst(coalesce: boolean): Promise<{ writes: number; got: number }> {
  const sub = mqtt.connect(broker.url, { clientId: `sub-${coalesce}`, clean: true, reconnectPeriod: 0 });
  keepNoDelay(sub);
  if (coalesce) coalesceWrites(sub);
  const pub = mqtt.connect(broker.url, { clientId: `pub-${coalesce}`, clean: true, reconnectPeriod: 0 });
  try {
    await until('both clients to connect', () => sub.connected && pub.connected, 10_000);
    await sub.subscribeAsync('burst/#', { qos: 1 });
    // Every write the socket makes, batched or not: Node calls _writev for a corked batch.
    const socket = sub.stream as unknown as { _write: (...a: unknown[]) => void; _writev?: (...a: unknown[]) => void };
    let writes = 0;
    const w = socket._write.bind(socket);
    socket._write = (...a: unknown[]) => (writes++, w(...a));
    if (socket._writev) {
      const wv = socket._writev.bind(socket);
      socket._writev = (...a: unknown[]) => (writes++, wv(...a));
    }
    let got = 0;
    sub.on('message', () => got++);
    await Promise.all(Array.from({ length: BURST }, (_, i) => pub.publishAsync(`burst/${i}`, 'x', { qos: 1 })));
    await until(`all ${BURST} messages`, () => got === BURST, 10_000);
    // The last acks leave at the end of the turn they were made in.
    await new Promise((r) => setTimeout(r, 50));
    return { writes, got };
  } finally {
    await Promise.all([sub.endAsync(), pub.endAsync()]);
  }
}

describe('coalesceWrites', () => {
  it('a burst of 200 QoS 1 messages is acknowledged in a few writes instead of one per message', async () => {
    const plain = await writesForBurst(false);
    const coalesced = await writesForBurst(true);
    expect(plain.got).toBe(BURST);
    expect(coalesced.got).toBe(BURST);
    // Without it, mqtt.js writes each PUBACK on its own (what this guards against).
    expect(plain.writes).toBeGreaterThan(BURST * 0.9);
    expect(coalesced.writes).toBeLessThan(BURST / 4);
  });
});
