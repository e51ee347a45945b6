// The Node-RED nodes with a signing key: the private key is a credential of the broker config node
// (PEM text, never in the exported flow), every command node signs with it, and an agent that
// requires signatures runs what Node-RED sends. A real Node-RED 4 process, a real broker and agent.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent, type Agent } from '../../agent/index.js';
import { generateSigningKey, privateKeyPem, publicKeyText } from '../../protocol/index.js';
import { startAedes, type TestBroker } from '../helpers/brokers.js';
import { debugFeed, type DebugFeed } from './comms.js';
import { startNodeRed, type NodeRed } from './runtime.js';

const PACKAGE_DIR = fileURLToPath(new URL('../../integrations/node-red', import.meta.url));
const HOST = 'nr-sig-1';

function flows(url: string, pem: string): unknown[] {
  const z = 't1';
  const unpack = `const m = Object.assign({}, msg.payload); msg.payload = 'queued'; return [m, msg];`;
  const debug = (id: string, name: string) => ({ id, z, type: 'debug', name, active: true, tosidebar: true, console: false, complete: 'true', targetType: 'full', x: 700, y: 100, wires: [] });
  const route = (path: string, broker: string, n: string) => [
    { id: `in_${n}`, z, type: 'http in', url: path, method: 'post', x: 100, y: 100, wires: [[`unpack_${n}`]] },
    { id: `unpack_${n}`, z, type: 'function', func: unpack, outputs: 2, x: 250, y: 100, wires: [[`cmd_${n}`], ['ok']] },
    { id: `cmd_${n}`, z, type: 'conplyent-command', name: n, broker, target: HOST, command: 'exec', args: '', timeout: 10, combined: false, outputs: 2, x: 450, y: 100, wires: [['d_results'], []] },
  ];
  return [
    { id: z, type: 'tab', label: 'signed' },
    { id: 'bk_signed', type: 'conplyent-broker', name: 'signed', url, credentials: { signingKey: pem } },
    { id: 'bk_plain', type: 'conplyent-broker', name: 'plain', url },
    { id: 'ok', z, type: 'http response', statusCode: '', x: 400, y: 160, wires: [] },
    ...route('/signed', 'bk_signed', 'signed'),
    ...route('/plain', 'bk_plain', 'plain'),
    { id: 'catch', z, type: 'catch', name: '', scope: null, uncaught: false, x: 450, y: 500, wires: [['d_errors']] },
    // Presence nodes connect each config node at deploy; the test waits for both to see the agent.
    { id: 'hosts_signed', z, type: 'conplyent-hosts', name: 'hosts', broker: 'bk_signed', target: HOST, x: 450, y: 400, wires: [['d_hosts']] },
    { id: 'hosts_plain', z, type: 'conplyent-hosts', name: 'hosts', broker: 'bk_plain', target: HOST, x: 450, y: 450, wires: [['d_hosts']] },
    debug('d_hosts', 'hosts'),
    debug('d_results', 'results'),
    debug('d_errors', 'errors'),
  ];
}

describe('node-red-contrib-conplyent with a signing key', () => {
  const ops = generateSigningKey();
  const pem = privateKeyPem(ops.privateKey);
  let broker: TestBroker;
  let agent: Agent;
  let red: NodeRed;
  let feed: DebugFeed;
  let dir: string;
  const results = (tag: string) => feed.waitFor('results', (ms) => ms.some((m) => JSON.parse(m.msg).tag === tag)).then((ms) => ms.map((m) => JSON.parse(m.msg)).find((m) => m.tag === tag));

  beforeAll(async () => {
    if (!existsSync(fileURLToPath(new URL('../../dist/controller/index.js', import.meta.url)))) throw new Error('dist/controller is missing: run `npm run build` first');
    dir = mkdtempSync(join(tmpdir(), 'cp-nr-sig-'));
    broker = await startAedes();
    agent = createAgent({ broker: broker.url, name: HOST, stateDir: join(dir, HOST), trustedKeys: [publicKeyText(ops.privateKey)], requireSigned: true });
    await agent.start();
    red = await startNodeRed({ flows: [], nodesDir: [PACKAGE_DIR] });
    feed = await debugFeed(red.url);
    const deployed = await red.post('/flows', flows(broker.url, pem), { 'Node-RED-Deployment-Type': 'full' });
    expect(deployed.status, deployed.text).toBe(204);
    await feed.waitFor('hosts', (ms) => ms.length >= 2);
  }, 60_000);

  afterAll(async () => {
    feed?.close();
    await red?.stop();
    await agent?.stop();
    await broker?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('[cp-sig-2] the command node signs: an agent that requires signatures runs it', async () => {
    expect((await red.post('/signed', { args: ['echo', 'signed by node-red'], tag: 's1' })).status).toBe(200);
    const r = await results('s1');
    expect(r.payload).toMatchObject({ host: HOST, state: 'ok', code: 0, stdout: 'signed by node-red\n' });
  }, 30_000);

  it('[cp-sig-5] without the key the same command is refused as UNSIGNED, on the error path', async () => {
    expect((await red.post('/plain', { args: ['echo', 'x'], tag: 'p1' })).status).toBe(200);
    const r = await results('p1');
    expect(r.payload).toMatchObject({ host: HOST, state: 'rejected', error: { code: 'UNSIGNED' } });
  }, 30_000);

  it('keeps the private key out of the exported flow and out of flows.json', async () => {
    const secret = pem.split('\n')[1]!;
    const exported = await red.get('/flows');
    expect(exported.text).not.toContain(secret);
    expect(readFileSync(join(red.userDir, 'flows.json'), 'utf8')).not.toContain(secret);
    expect(readFileSync(join(red.userDir, 'flows_cred.json'), 'utf8')).not.toContain(secret);
    const creds = await red.get('/credentials/conplyent-broker/bk_signed');
    expect(creds.body).toMatchObject({ has_signingKey: true });
    expect(creds.text).not.toContain(secret);
  });
});
