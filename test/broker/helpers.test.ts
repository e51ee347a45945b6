// The test brokers themselves: every kind starts on a loopback port, carries MQTT, and restarts on the same port.
import mqtt from 'mqtt';
import { createConnection } from 'node:net';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { brokerKinds, mosquittoAvailable, startBrokerKind, type TestBroker } from '../helpers/brokers.js';
import { closed, connect } from './clients.js';

async function roundTrip(url: string): Promise<string> {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5_000 });
  (client.stream as any)?.setNoDelay?.(true);
  try {
    const got = new Promise<string>((resolve) => client.on('message', (_t, p) => resolve(p.toString())));
    await client.subscribeAsync('conplyent/h1/status', { qos: 1 });
    await client.publishAsync('conplyent/h1/status', 'hello', { qos: 1 });
    return await got;
  } finally {
    await client.endAsync();
  }
}

describe.each(brokerKinds())('test broker %s', (kind) => {
  let broker: TestBroker | undefined;
  afterAll(async () => broker?.stop());

  it('listens on a loopback port and carries messages', async () => {
    broker = await startBrokerKind(kind);
    expect(broker.url).toBe(`mqtt://127.0.0.1:${broker.port}`);
    expect(await roundTrip(broker.url)).toBe('hello');
  });

  it('restarts on the same port', async () => {
    await broker!.restart();
    expect(await roundTrip(broker!.url)).toBe('hello');
  });
});

describe.each(brokerKinds())('stopping %s with clients connected', (kind) => {
  it('disconnects them and returns; a restart accepts them again', async () => {
    const broker = await startBrokerKind(kind);
    try {
      const c = await connect(broker.url, { clientId: 'stays' });
      // A socket that never sends CONNECT must not keep the broker from stopping either.
      const idle = createConnection({ host: '127.0.0.1', port: broker.port });
      idle.on('error', () => {});
      const gone = closed(c);
      await broker.restart();
      await gone;
      idle.destroy();
      expect(await roundTrip(broker.url)).toBe('hello');
    } finally {
      await broker.stop();
    }
  });
});

describe('when Mosquitto is missing', () => {
  const saved = { bin: process.env.CONPLYENT_MOSQUITTO_BIN, ci: process.env.CI };
  afterEach(() => {
    for (const [k, v] of [['CONPLYENT_MOSQUITTO_BIN', saved.bin], ['CI', saved.ci]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    vi.restoreAllMocks();
  });

  it('runs aedes only and says so in one line', () => {
    process.env.CONPLYENT_MOSQUITTO_BIN = '/nonexistent/mosquitto';
    delete process.env.CI;
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    expect(mosquittoAvailable()).toBe(false);
    expect(brokerKinds()).toEqual(['aedes']);
    expect(brokerKinds()).toEqual(['aedes']);
    expect(warn.mock.calls.length).toBeLessThanOrEqual(1);
    for (const call of warn.mock.calls) expect(call[0]).toBe('mosquitto not installed: Mosquitto runs skipped');
  });

  it('fails loudly in CI', () => {
    process.env.CONPLYENT_MOSQUITTO_BIN = '/nonexistent/mosquitto';
    process.env.CI = 'true';
    expect(() => brokerKinds()).toThrow(/CI must run the Mosquitto suites/);
  });
});
