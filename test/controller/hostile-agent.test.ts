// The controller against an agent that sends absurd (but schema-valid) events: it must settle the
// job and report what is wrong, never hang or run out of memory on one bad event.
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type Fleet } from '../../controller/index.js';
import { startAedes, type TestBroker } from '../helpers/brokers.js';

describe('controller against a misbehaving agent', () => {
  let broker: TestBroker;
  let fake: MqttClient;
  let fleet: Fleet | undefined;
  const HOST = 'odd-1';

  beforeAll(async () => {
    broker = await startAedes();
    fake = mqtt.connect(broker.url, { protocolVersion: 4, clientId: HOST, reconnectPeriod: 0 });
    fake.on('connect', () => (fake.stream as any)?.setNoDelay?.(true));
    await new Promise<void>((r) => fake.once('connect', () => r()));
    const ev = (job: string, seq: number, body: object) => JSON.stringify({ v: 1, host: HOST, job, seq, ts: Date.now(), ...body });
    fake.on('message', (_topic, payload) => {
      const cmd = JSON.parse(payload.toString('utf8'));
      const topic = `conplyent/${HOST}/job/${cmd.id}`;
      fake.publish(topic, ev(cmd.id, 0, { type: 'accepted', cmd: cmd.cmd, args: cmd.args ?? [], kind: 'foreground', boot: 1 }), { qos: 1 });
      // A terminal event that claims 2^53 events came before it.
      const seq = cmd.cmd === 'replay' ? 1 : Number.MAX_SAFE_INTEGER;
      fake.publish(topic, ev(cmd.id, seq, { type: 'result', code: 0, durationMs: 1, events: 0, value: 'x' }), { qos: 1 });
    });
    await fake.subscribeAsync(`conplyent/${HOST}/cmd`, { qos: 1 });
    const status = { v: 1, host: HOST, online: true, boot: 1, conn: 1, since: Date.now(), startedAt: Date.now(), labels: {}, commands: [] };
    await fake.publishAsync(`conplyent/${HOST}/status`, JSON.stringify(status), { qos: 1, retain: true });
  });

  afterAll(async () => {
    await fleet?.close();
    await fake?.endAsync(true);
    await broker?.stop();
  });

  it('[cp-evt-7] a result with a huge seq settles with a bounded gap report instead of hanging the controller', async () => {
    fleet = await connect(broker.url);
    const job = fleet.run(HOST, 'ping', [], { waitMs: 8_000 });
    const [r] = await job.done();
    expect(r.host).toBe(HOST);
    expect(r.gap).toBeDefined();
    expect(r.gap!.missingSeqs.length).toBeLessThanOrEqual(100);
    expect(r.gap!.missingSeqs[0]).toBe(1);
    expect(r.gap!.droppedEvents).toBe(Number.MAX_SAFE_INTEGER - 1);
  }, 20_000);
});
