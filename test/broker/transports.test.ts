// The embedded broker's other transports: mqtts with a certificate made in the test, and MQTT over
// WebSocket (browsers, Node-RED) — both reach the same broker as plain TCP clients.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type RunningBroker } from '../../broker/index.js';
import { topics } from '../../protocol/index.js';
import { connect, inbox, refusal } from './clients.js';
import { selfSignedCert } from '../helpers/tls-cert.js';

describe('embedded broker transports', () => {
  let dir: string;
  let broker: RunningBroker;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'conplyent-tls-'));
    broker = await startBroker({ port: 0, wsPort: 0, tls: { port: 0, ...selfSignedCert(dir) } });
  });
  afterAll(async () => {
    await broker?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves mqtts to a client that trusts the certificate', async () => {
    const tcp = await connect(broker.url, { clientId: 'plain' });
    const box = inbox(tcp);
    await tcp.subscribeAsync(topics.status('tls-host'), { qos: 1 });
    const secure = await connect(`mqtts://127.0.0.1:${broker.tlsPort}`, { clientId: 'tls-host', ca: readFileSync(join(dir, 'cert.pem')), rejectUnauthorized: true });
    await secure.publishAsync(topics.status('tls-host'), 'over tls', { qos: 1 });
    await box.waitFor(topics.status('tls-host'), 'over tls');
    await secure.endAsync();
    await tcp.endAsync();
  });

  it('refuses a TLS client that does not trust the certificate, without harm to the broker', async () => {
    const err = await refusal(`mqtts://127.0.0.1:${broker.tlsPort}`, { clientId: 'untrusting', rejectUnauthorized: true });
    expect(err.message).toMatch(/self.signed|certificate/i);
    const c = await connect(broker.url, { clientId: 'after' });
    await c.endAsync();
  });

  it('serves MQTT over WebSocket: publish and subscribe', async () => {
    const ws = await connect(`ws://127.0.0.1:${broker.wsPort}/mqtt`, { clientId: 'ws-controller' });
    const box = inbox(ws);
    await ws.subscribeAsync(topics.allStatus(), { qos: 1 });
    const agent = await connect(broker.url, { clientId: 'tcp-agent' });
    const agentBox = inbox(agent);
    await agent.subscribeAsync(topics.cmd('tcp-agent'), { qos: 1 });
    await agent.publishAsync(topics.status('tcp-agent'), '{"online":true}', { qos: 1, retain: true });
    await box.waitFor(topics.status('tcp-agent'));
    await ws.publishAsync(topics.cmd('tcp-agent'), 'exec uptime', { qos: 1 });
    await agentBox.waitFor(topics.cmd('tcp-agent'), 'exec uptime');
    await ws.endAsync();
    await agent.endAsync();
  });

  it('with a CA, requires client certificates signed by it (mutual TLS)', async () => {
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    const mtls = await startBroker({ port: 0, tls: { port: 0, cert, key, ca: cert } });
    try {
      const url = `mqtts://127.0.0.1:${mtls.tlsPort}`;
      await refusal(url, { clientId: 'no-cert', ca: readFileSync(cert) });
      const ok = await connect(url, { clientId: 'with-cert', ca: readFileSync(cert), cert: readFileSync(cert), key: readFileSync(key) });
      await ok.endAsync();
    } finally {
      await mtls.close();
    }
  });
});
