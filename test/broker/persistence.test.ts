// State across a broker restart: aedes with --data-dir, Mosquitto with `persistence true`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { topics } from '../../protocol/index.js';
import { brokerKinds, startBrokerKind, type TestBroker } from '../helpers/brokers.js';
import { connect, inbox } from './clients.js';

describe.each(brokerKinds())('persistence across a restart on %s', (kind) => {
  const dir = mkdtempSync(join(tmpdir(), `conplyent-data-${kind}-`));
  let broker: TestBroker | undefined;
  afterAll(async () => {
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('delivers a QoS 1 message queued for an offline session once after the restart, and keeps retained messages', async () => {
    broker = await startBrokerKind(kind, { persistenceDir: dir });
    const session = { clientId: 'offline-host', clean: false };
    const agent = await connect(broker.url, session);
    await agent.subscribeAsync(topics.cmd('offline-host'), { qos: 1 });
    await agent.endAsync();

    const ctl = await connect(broker.url, { clientId: 'ctl' });
    await ctl.publishAsync(topics.cmd('offline-host'), 'queued-1', { qos: 1 });
    await ctl.publishAsync(topics.status('kept-host'), 'online', { qos: 1, retain: true });
    await ctl.endAsync();

    await broker.restart();

    const back = await connect(broker.url, session);
    const box = inbox(back);
    await box.waitFor(topics.cmd('offline-host'), 'queued-1');
    // A later message as a sentinel: once it arrives, any redelivery of the first would have too.
    const ctl2 = await connect(broker.url, { clientId: 'ctl2' });
    await ctl2.publishAsync(topics.cmd('offline-host'), 'sentinel', { qos: 1 });
    await box.waitFor(topics.cmd('offline-host'), 'sentinel');
    expect(box.got.filter((m) => m.payload === 'queued-1')).toHaveLength(1);

    const reader = await connect(broker.url, { clientId: 'reader' });
    const rbox = inbox(reader);
    await reader.subscribeAsync(topics.status('kept-host'), { qos: 1 });
    await rbox.waitFor(topics.status('kept-host'), 'online');
    for (const c of [back, ctl2, reader]) await c.endAsync();
  });
});
