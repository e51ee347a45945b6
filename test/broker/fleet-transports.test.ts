// A fleet across the embedded broker's transports: a WebSocket client (a browser, Node-RED's
// websocket MQTT) sees presence and runs commands; agents dial in over WebSocket and over mqtts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent, type Agent } from '../../agent/index.js';
import { startBroker, type RunningBroker } from '../../broker/index.js';
import { connectWire, result, type Wire } from '../helpers/wire.js';
import { selfSignedCert } from '../helpers/tls-cert.js';

describe('a fleet over WebSocket and TLS on the embedded broker', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cp-fleet-tr-'));
  let broker: RunningBroker;
  const agents: Agent[] = [];
  let ws: Wire;

  beforeAll(async () => {
    broker = await startBroker({ port: 0, wsPort: 0, tls: { port: 0, ...selfSignedCert(dir) } });
    const specs: [string, string, Record<string, string>][] = [
      ['tcp-1', broker.url, {}],
      ['ws-1', `ws://127.0.0.1:${broker.wsPort}/mqtt`, {}],
      ['tls-1', `mqtts://127.0.0.1:${broker.tlsPort}`, { ca: join(dir, 'cert.pem') }],
    ];
    for (const [name, url, tls] of specs) {
      const a = createAgent({ broker: url, name, stateDir: join(dir, name), ...tls });
      await a.start();
      agents.push(a);
    }
    ws = await connectWire(`ws://127.0.0.1:${broker.wsPort}/mqtt`);
  });
  afterAll(async () => {
    await ws?.close();
    for (const a of agents) await a.stop();
    await broker?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a WebSocket client gets every agent\'s retained presence', async () => {
    for (const h of ['tcp-1', 'ws-1', 'tls-1']) {
      await ws.waitFor((m) => m.topic === `conplyent/${h}/status` && m.json.online === true, 5_000, `${h} online`);
    }
  });

  it('a WebSocket client runs a command on agents connected over TCP, WebSocket and TLS', async () => {
    for (const h of ['tcp-1', 'ws-1', 'tls-1']) {
      expect(result(await ws.run(h, { cmd: 'exec', args: ['echo', h] }))).toMatchObject({ type: 'result', code: 0 });
      expect(ws.messages.some((m) => m.topic.startsWith(`conplyent/${h}/job/`) && m.json.type === 'output' && m.json.data === `${h}\n`)).toBe(true);
    }
  });

  it('one fleet-topic publish from the WebSocket client reaches all three', async () => {
    ws.send('conplyent/_all/cmd', { id: 'tr-all', cmd: 'ping', target: 'all' });
    for (const h of ['tcp-1', 'ws-1', 'tls-1']) {
      await ws.waitFor((m) => m.topic === `conplyent/${h}/job/tr-all` && m.json.type === 'result', 5_000, `${h} result`);
    }
  });
});
