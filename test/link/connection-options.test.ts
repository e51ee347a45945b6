// The agent and the controller build their MQTT options in one place (link/): the same URL schemes,
// the same keepalive rule and default, TLS material as a path or PEM text for both, and TCP_NODELAY
// on every socket, the ones of reconnects included.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent, type Agent } from '../../agent/index.js';
import { resolveAgentOptions } from '../../agent/options.js';
import { startBroker, type RunningBroker } from '../../broker/index.js';
import { clientOptions } from '../../controller/connection.js';
import { connect, ControllerError } from '../../controller/index.js';
import { BROKER_SCHEMES } from '../../link/broker-url.js';
import { keepNoDelay, mqttOptions } from '../../link/mqtt-options.js';
import { sleep } from '../helpers/wire.js';

const agentBase = { name: 'link-1', stateDir: '/nonexistent-not-used' };

describe('one set of connection rules for agent and controller', () => {
  it('both accept every scheme mqtt.js dials (mqtt, tcp, mqtts, tls, ssl, ws, wss) and refuse others', () => {
    for (const scheme of BROKER_SCHEMES) {
      const url = `${scheme}://127.0.0.1:1`;
      expect(() => resolveAgentOptions({ ...agentBase, broker: url }), url).not.toThrow();
      expect(() => clientOptions(url, {}), url).not.toThrow();
    }
    expect(() => createAgent({ ...agentBase, broker: 'http://h' })).toThrow(/agent option broker: expected a URL .*unsupported scheme http:/);
    expect(() => clientOptions('http://h', {})).toThrow(ControllerError);
  });

  it('keepaliveSec: the same rule (a whole number of seconds, 1 to 65535) and the same default of 30 s', () => {
    for (const keepaliveSec of [0, -1, 1.5, 65536, Number.NaN]) {
      expect(() => createAgent({ ...agentBase, broker: 'mqtt://h', keepaliveSec }), String(keepaliveSec)).toThrow(/agent option keepaliveSec/);
      expect(() => clientOptions('mqtt://h', { keepaliveSec }), String(keepaliveSec)).toThrow(/keepaliveSec/);
    }
    expect(resolveAgentOptions({ ...agentBase, broker: 'mqtt://h' }).keepaliveSec).toBe(30);
    expect(clientOptions('mqtt://h', {}).keepalive).toBe(30);
    expect(clientOptions('mqtt://h', { keepaliveSec: 65535 }).keepalive).toBe(65535);
  });

  it('reconnect backoff: a maximum left unset follows a larger minimum; one set below the minimum is refused', () => {
    expect(resolveAgentOptions({ ...agentBase, broker: 'mqtt://h', reconnectMinMs: 60_000 }).reconnectMaxMs).toBe(60_000);
    expect(resolveAgentOptions({ ...agentBase, broker: 'mqtt://h', reconnectMinMs: 100 }).reconnectMaxMs).toBe(30_000);
    expect(() => createAgent({ ...agentBase, broker: 'mqtt://h', reconnectMinMs: 2_000, reconnectMaxMs: 1_000 })).toThrow(/agent option reconnectMinMs: must not exceed reconnectMaxMs/);
  });

  it('TLS material is a path or PEM text, alike for every part; an unreadable path names the option', () => {
    const pem = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';
    const o = mqttOptions('mqtts://h', { clientId: 'x', reconnectPeriodMs: 0, ca: pem, cert: pem, key: pem });
    expect([o.ca, o.cert, o.key]).toEqual([Buffer.from(pem), Buffer.from(pem), Buffer.from(pem)]);
    expect(() => mqttOptions('mqtts://h', { clientId: 'x', reconnectPeriodMs: 0, key: '/no/such/key.pem' })).toThrow(/key: cannot read "\/no\/such\/key.pem"/);
  });
});

describe('TLS over the tls: and ssl: schemes, CA as PEM text or path', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cp-link-tls-'));
  let broker: RunningBroker;
  let agent: Agent | undefined;

  beforeAll(async () => {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'pipe' });
    broker = await startBroker({ port: 0, tls: { port: 0, cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') } });
  });
  afterAll(async () => {
    await agent?.stop();
    await broker?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('an agent given the CA as PEM text on ssl:// is seen online by a controller given it as a path on tls://', async () => {
    agent = createAgent({ broker: `ssl://127.0.0.1:${broker.tlsPort}`, name: 'tls-pem-1', stateDir: join(dir, 'state'), ca: readFileSync(join(dir, 'cert.pem'), 'utf8') });
    await agent.start();
    const fleet = await connect(`tls://127.0.0.1:${broker.tlsPort}`, { ca: join(dir, 'cert.pem'), connectTimeoutMs: 5_000 });
    try {
      // The agent's start() resolved once it was online, and connect() waits for retained presence.
      expect(fleet.hosts().find((h) => h.name === 'tls-pem-1')).toMatchObject({ online: true });
    } finally {
      await fleet.close();
    }
  });
});

describe('TCP_NODELAY', () => {
  let broker: RunningBroker;
  const noDelay = new WeakSet<Socket>();
  const original = Socket.prototype.setNoDelay;

  beforeAll(async () => {
    // Record which sockets were switched; the call still goes to Node's own implementation.
    Socket.prototype.setNoDelay = function (this: Socket, on?: boolean) {
      if (on !== false) noDelay.add(this);
      return original.call(this, on);
    };
    broker = await startBroker({ port: 0 });
  });
  afterAll(async () => {
    Socket.prototype.setNoDelay = original;
    await broker?.close();
  });

  it('is set on the first socket and again on the socket of every reconnect', async () => {
    const client: MqttClient = mqtt.connect(broker.url, mqttOptions(broker.url, { clientId: 'nodelay-1', reconnectPeriodMs: 100, clean: true }));
    keepNoDelay(client);
    client.on('error', () => undefined);
    const connected = () => new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no CONNACK within 5 s')), 5_000);
      client.once('connect', () => (clearTimeout(t), resolve()));
    });
    try {
      await connected();
      const first = client.stream as Socket;
      expect(noDelay.has(first)).toBe(true);
      const again = connected();
      first.destroy();
      await again;
      await sleep(10);
      expect(client.stream).not.toBe(first);
      expect(noDelay.has(client.stream as Socket)).toBe(true);
    } finally {
      await client.endAsync(true);
    }
  });
});
