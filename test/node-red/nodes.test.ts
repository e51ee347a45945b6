// integrations/node-red (node-red-contrib-conplyent) in a real Node-RED 4 runtime, against a broker
// with users and real agents: results per host, live chunks, the combined message, presence as
// messages, the editor's command list, TLS, every kind of bad input on the error path, and
// credentials that never reach the flow JSON.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent, type Agent } from '../../agent/index.js';
import { startBroker, type RunningBroker } from '../../broker/index.js';
import { freePort, startAedes, type TestBroker } from '../helpers/brokers.js';
import { debugFeed, type DebugFeed } from './comms.js';
import { startNodeRed, type NodeRed } from './runtime.js';

const PACKAGE_DIR = fileURLToPath(new URL('../../integrations/node-red', import.meta.url));
const SECRET = 'nr-s3cret-Pa55';
const HOSTS = ['web-1', 'web-2', 'web-3'];

function testFlows(brokerUrl: string, deadUrl: string, flakyUrl: string, tls: { url: string; ca: string }): unknown[] {
  const z = 't1';
  const unpack = `const m = Object.assign({}, msg.payload); msg.payload = 'queued'; return [m, msg];`;
  const debug = (id: string, name: string, y: number) => ({ id, z, type: 'debug', name, active: true, tosidebar: true, console: false, complete: 'true', targetType: 'full', x: 700, y, wires: [] });
  return [
    { id: z, type: 'tab', label: 'conplyent nodes' },
    { id: 'bk', type: 'conplyent-broker', name: 'fleet', url: brokerUrl, credentials: { username: 'nodered', password: SECRET } },
    { id: 'bk_dead', type: 'conplyent-broker', name: 'down', url: deadUrl, credentials: { username: 'nodered', password: SECRET } },
    { id: 'in', z, type: 'http in', url: '/run', method: 'post', x: 100, y: 100, wires: [['unpack']] },
    { id: 'unpack', z, type: 'function', func: unpack, outputs: 2, x: 250, y: 100, wires: [['cmd'], ['ok']] },
    { id: 'ok', z, type: 'http response', statusCode: '', x: 400, y: 160, wires: [] },
    { id: 'cmd', z, type: 'conplyent-command', name: 'cmd', broker: 'bk', target: '', command: '', args: '', timeout: 10, combined: true, outputs: 3, x: 450, y: 100, wires: [['d_results'], ['d_chunks'], ['d_combined']] },
    { id: 'in_dead', z, type: 'http in', url: '/run-dead', method: 'post', x: 100, y: 300, wires: [['unpack_dead']] },
    { id: 'unpack_dead', z, type: 'function', func: unpack, outputs: 2, x: 250, y: 300, wires: [['cmd_dead'], ['ok']] },
    { id: 'cmd_dead', z, type: 'conplyent-command', name: 'cmd-dead', broker: 'bk_dead', target: 'web-1', command: 'exec', args: 'uptime', timeout: 5, combined: false, outputs: 2, x: 450, y: 300, wires: [['d_results'], ['d_chunks']] },
    { id: 'bk_flaky', type: 'conplyent-broker', name: 'flaky', url: flakyUrl },
    { id: 'in_flaky', z, type: 'http in', url: '/run-flaky', method: 'post', x: 100, y: 350, wires: [['unpack_flaky']] },
    { id: 'unpack_flaky', z, type: 'function', func: unpack, outputs: 2, x: 250, y: 350, wires: [['cmd_flaky'], ['ok']] },
    { id: 'cmd_flaky', z, type: 'conplyent-command', name: 'cmd-flaky', broker: 'bk_flaky', target: 'web-1', command: 'exec', args: 'uptime', timeout: 2, combined: false, outputs: 2, x: 450, y: 350, wires: [['d_results'], ['d_chunks']] },
    { id: 'bk_tls', type: 'conplyent-broker', name: 'tls', url: tls.url, credentials: { ca: tls.ca } },
    { id: 'in_tls', z, type: 'http in', url: '/run-tls', method: 'post', x: 100, y: 380, wires: [['unpack_tls']] },
    { id: 'unpack_tls', z, type: 'function', func: unpack, outputs: 2, x: 250, y: 380, wires: [['cmd_tls'], ['ok']] },
    { id: 'cmd_tls', z, type: 'conplyent-command', name: 'cmd-tls', broker: 'bk_tls', target: 'tls-1', command: 'exec', args: 'echo over-tls', timeout: 5, combined: false, outputs: 2, x: 450, y: 380, wires: [['d_results'], ['d_chunks']] },
    { id: 'hosts', z, type: 'conplyent-hosts', name: 'hosts', broker: 'bk', target: 'role=web', x: 450, y: 400, wires: [['d_hosts']] },
    { id: 'catch', z, type: 'catch', name: '', scope: null, uncaught: false, x: 450, y: 500, wires: [['d_errors']] },
    { id: 'status', z, type: 'status', name: '', scope: ['cmd', 'cmd_dead'], x: 450, y: 560, wires: [['d_status']] },
    debug('d_results', 'results', 100),
    debug('d_chunks', 'chunks', 140),
    debug('d_combined', 'combined', 180),
    debug('d_hosts', 'hosts', 400),
    debug('d_errors', 'errors', 500),
    debug('d_status', 'status', 560),
  ];
}

describe('node-red-contrib-conplyent in a real Node-RED', () => {
  let broker: TestBroker;
  let flaky: TestBroker;
  let tlsBroker: RunningBroker;
  let tlsAgent: Agent;
  let red: NodeRed;
  let feed: DebugFeed;
  let dir: string;
  const agents = new Map<string, Agent>();
  let n = 0;

  const parsed = (name: string) => feed.messages.filter((m) => m.name === name).map((m) => JSON.parse(m.msg));
  /** Sends one message into a command node and resolves with what reached debug node `name` for it. */
  const run = async (body: Record<string, unknown>, path = '/run') => {
    const tag = `t${++n}`;
    const r = await red.post(path, { ...body, tag });
    expect(r.status).toBe(200);
    return tag;
  };
  const waitTagged = async (name: string, tag: string, count = 1) => {
    await feed.waitFor(name, (ms) => ms.filter((m) => JSON.parse(m.msg).tag === tag).length >= count);
    return parsed(name).filter((m) => m.tag === tag);
  };

  beforeAll(async () => {
    // The nodes load the controller as a package consumer would: from the build, not from the sources.
    if (!existsSync(fileURLToPath(new URL('../../dist/controller/index.js', import.meta.url)))) throw new Error('dist/controller is missing: run `npm run build` first');
    dir = mkdtempSync(join(tmpdir(), 'cp-nr-nodes-'));
    broker = await startAedes({
      users: [...HOSTS.map((h) => ({ username: h, password: `pw-${h}`, role: 'agent' as const })), { username: 'nodered', password: SECRET, role: 'controller' }],
    });
    for (const name of HOSTS) {
      const a = createAgent({ broker: broker.url, name, username: name, password: `pw-${name}`, labels: { role: 'web' }, stateDir: join(dir, name) });
      if (name === 'web-1') a.registerCommand('greet', (ctx) => `hello ${String(ctx.args[0])}`, { usage: '<name>', summary: 'says hello' });
      await a.start();
      agents.set(name, a);
    }
    const deadUrl = `mqtt://127.0.0.1:${await freePort()}`;
    flaky = await startAedes();
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'pipe' });
    tlsBroker = await startBroker({ port: 0, tls: { port: 0, cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') } });
    tlsAgent = createAgent({ broker: tlsBroker.url, name: 'tls-1', stateDir: join(dir, 'tls-1') });
    await tlsAgent.start();
    const tls = { url: `mqtts://127.0.0.1:${tlsBroker.tlsPort}`, ca: readFileSync(join(dir, 'cert.pem'), 'utf8') };
    red = await startNodeRed({ flows: [], nodesDir: [PACKAGE_DIR], settings: { debugMaxLength: 100_000 } });
    feed = await debugFeed(red.url);
    // Deployed through the admin API, as the editor does: that is where credentials are split off.
    const deployed = await red.post('/flows', testFlows(broker.url, deadUrl, flaky.url, tls), { 'Node-RED-Deployment-Type': 'full' });
    expect(deployed.status, deployed.text).toBe(204);
    await feed.waitFor('hosts', (ms) => ms.length >= 3);
  }, 60_000);

  afterAll(async () => {
    feed?.close();
    await red?.stop();
    for (const a of agents.values()) await a.stop().catch(() => {});
    await broker?.stop();
    await flaky?.stop().catch(() => {});
    await tlsAgent?.stop().catch(() => {});
    await tlsBroker?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports every role=web host as a presence message on deploy', () => {
    const first = parsed('hosts').slice(0, 3);
    expect(first.map((m) => m.topic).sort()).toEqual(HOSTS);
    expect(first[0]).toMatchObject({ event: 'online', payload: { online: true, labels: { role: 'web' }, facts: { platform: process.platform } } });
  });

  it('runs a command on a single host: one result with code, stdout and duration, and a combined message', async () => {
    const tag = await run({ target: 'web-1', command: 'exec', args: ['echo', 'hello from node-red'] });
    const [res] = await waitTagged('results', tag);
    expect(res).toMatchObject({ topic: 'web-1', payload: { host: 'web-1', state: 'ok', code: 0, stdout: 'hello from node-red\n', stderr: '' } });
    expect(typeof res.payload.durationMs).toBe('number');
    const [all] = await waitTagged('combined', tag);
    expect(all.payload).toMatchObject({ expected: ['web-1'], total: 1, done: 1, ok: ['web-1'], failed: [], notRun: [] });
    const statuses = await feed.waitFor('status', (ms) => ms.some((m) => JSON.parse(m.msg).status.text === '1/1 done'));
    expect(JSON.parse(statuses.at(-1)!.msg).status).toMatchObject({ fill: 'green', text: '1/1 done' });
  });

  it('returns the value of a custom foreground command', async () => {
    const tag = await run({ target: 'web-1', command: 'greet', args: 'ops' });
    const [res] = await waitTagged('results', tag);
    expect(res.payload).toMatchObject({ state: 'ok', code: 0, value: 'hello ops' });
  });

  it('streams output chunks on output 2 before the host result', async () => {
    const tag = await run({ target: 'web-2', command: 'exec', args: ['sh', '-c', 'echo first; sleep 0.4; echo second'] });
    await waitTagged('results', tag);
    const ordered = feed.messages.map((m) => ({ name: m.name, msg: JSON.parse(m.msg) })).filter((m) => m.msg.tag === tag);
    const chunks = ordered.filter((m) => m.name === 'chunks').map((m) => m.msg);
    expect(chunks.map((c) => c.payload)).toEqual(['first\n', 'second\n']);
    expect(chunks[0]).toMatchObject({ topic: 'web-2', host: 'web-2', stream: 'stdout' });
    expect(ordered.findIndex((m) => m.name === 'chunks')).toBeLessThan(ordered.findIndex((m) => m.name === 'results'));
  });

  it('reports a host that goes offline as a presence message', async () => {
    await agents.get('web-3')!.stop();
    const msgs = await feed.waitFor('hosts', (ms) => ms.some((m) => JSON.parse(m.msg).event === 'offline'));
    const off = msgs.map((m) => JSON.parse(m.msg)).find((m) => m.event === 'offline');
    expect(off).toMatchObject({ topic: 'web-3', payload: { host: 'web-3', online: false, reason: 'shutdown' }, previous: { online: true } });
  });

  it('broadcasts to role=web: per-host results, the offline host reported as not answering, on the error path too', async () => {
    const tag = await run({ target: 'role=web', command: 'exec', args: 'hostname' });
    const results = await waitTagged('results', tag, 3);
    const byHost = Object.fromEntries(results.map((r) => [r.topic, r.payload]));
    expect(byHost['web-1']).toMatchObject({ state: 'ok', code: 0 });
    expect(byHost['web-2']).toMatchObject({ state: 'ok', code: 0 });
    expect(byHost['web-3']).toMatchObject({ state: 'offline', code: null, error: { code: 'OFFLINE' } });
    const [all] = await waitTagged('combined', tag);
    expect(all.payload).toMatchObject({ total: 3, done: 2, notAnswered: ['web-3'], notRun: ['web-3'] });
    const [err] = await waitTagged('errors', tag);
    expect(err.error.message).toMatch(/1 of 3 hosts did not run the command: web-3 offline/);
    await feed.waitFor('status', (ms) => ms.some((m) => JSON.parse(m.msg).status.text === '2/3 done, 1 not run'));
  });

  it.each([
    ['a missing target', { command: 'exec', args: 'uptime' }, /no target/],
    ['a missing command', { target: 'web-1' }, /no command/],
    ['a target that matches no host', { target: 'role=db', command: 'exec', args: 'uptime' }, /matches no known host/],
    ['a target that does not parse', { target: 'a/b', command: 'exec' }, /bad target/],
    ['an agent that rejects the command', { target: 'web-1', command: 'no_such_command' }, /web-1 rejected \(UNKNOWN_COMMAND/],
    ['args that are not an array', { target: 'web-1', command: 'exec', args: '["unterminated' }, /msg.args/],
  ])('puts %s on the error path with a red status, and the next message works', async (_what, body, message) => {
    const tag = await run(body);
    const [err] = await waitTagged('errors', tag);
    expect(err.error.message).toMatch(message);
    expect(err.error.source).toMatchObject({ type: 'conplyent-command', name: 'cmd' });
    const statuses = await feed.waitFor('status', (ms) => ms.length > 0);
    expect(JSON.parse(statuses.at(-1)!.msg).status).toMatchObject({ fill: 'red' });
    const next = await run({ target: 'web-1', command: 'exec', args: 'true' });
    expect((await waitTagged('results', next))[0].payload).toMatchObject({ state: 'ok' });
    expect(red.alive()).toBe(true);
  });

  it('puts a broker that is down on the error path; Node-RED keeps running', async () => {
    const tag = await run({}, '/run-dead');
    const [err] = await waitTagged('errors', tag);
    expect(err.error.message).toMatch(/broker unreachable: cannot connect/);
    await feed.waitFor('status', (ms) => ms.some((m) => JSON.parse(m.msg).status.text === 'broker down'));
    expect(red.alive()).toBe(true);
    const again = await run({}, '/run-dead');
    expect((await waitTagged('errors', again))[0].error.message).toMatch(/broker unreachable/);
  });

  it('puts a broker lost after connecting on the error path at once, without waiting forever', async () => {
    // Connected (an empty fleet: nothing matches), then the broker goes away.
    const first = await run({}, '/run-flaky');
    expect((await waitTagged('errors', first))[0].error.message).toMatch(/matches no known host/);
    await flaky.stop();
    const tag = await run({}, '/run-flaky');
    expect((await waitTagged('errors', tag))[0].error.message).toMatch(/broker unreachable: the connection was lost/);
    expect(red.alive()).toBe(true);
  });

  it('connects over TLS with the CA kept in the credentials', async () => {
    const tag = await run({}, '/run-tls');
    const [res] = await waitTagged('results', tag);
    expect(res.payload).toMatchObject({ host: 'tls-1', state: 'ok', stdout: 'over-tls\n' });
    const exported = await red.get('/flows');
    expect(exported.text).not.toContain('BEGIN CERTIFICATE');
  });

  it('offers the commands the targeted hosts announce, with usage hints, to the editor', async () => {
    const r = await red.get('/conplyent/commands?broker=bk&target=role%3Dweb');
    const exec = r.body.commands.find((c: { name: string }) => c.name === 'exec');
    expect(exec).toMatchObject({ kind: 'background', usage: expect.stringContaining('<program>') });
    expect(r.body.commands.find((c: { name: string }) => c.name === 'greet')).toMatchObject({ usage: '<name>', summary: 'says hello', hosts: ['web-1'] });
    const none = await red.get('/conplyent/commands?broker=nope');
    expect(none.body).toMatchObject({ commands: [], message: expect.stringMatching(/deploy/) });
  });

  it('serves editor definitions that register all three nodes, with help panels and examples', async () => {
    let html = '';
    for (const set of ['conplyent-broker', 'conplyent-command', 'conplyent-hosts']) {
      const res = await fetch(`${red.url}/nodes/node-red-contrib-conplyent/${set}`, { headers: { accept: 'text/html' }, signal: AbortSignal.timeout(10_000) });
      html += await res.text();
    }
    const types: Record<string, any> = {};
    const RED = { nodes: { registerType: (t: string, def: unknown) => (types[t] = def) }, validators: { number: () => () => true, regex: () => () => true } };
    for (const m of html.matchAll(/<script type="text\/javascript">([\s\S]*?)<\/script>/g)) runInNewContext(m[1], { RED });
    expect(Object.keys(types).sort()).toEqual(['conplyent-broker', 'conplyent-command', 'conplyent-hosts']);
    expect(Object.keys(types['conplyent-broker'].credentials)).toEqual(['username', 'password', 'ca', 'cert', 'key', 'signingKey']);
    expect(types['conplyent-broker'].defaults).not.toHaveProperty('password');
    expect(types['conplyent-command'].label.call({ target: 'role=web', command: 'exec', args: 'uptime' })).toBe('role=web: exec uptime');
    for (const t of Object.keys(types)) expect(html).toContain(`data-help-name="${t}"`);
    expect(html).toMatch(/<h3>Examples?<\/h3>/);
  });

  it('keeps user name and password out of the exported flow and out of flows.json', async () => {
    const exported = await red.get('/flows');
    expect(exported.status).toBe(200);
    expect(exported.text).not.toContain(SECRET);
    const cfg = exported.body.find((n: { id: string }) => n.id === 'bk');
    expect(cfg.credentials).toBeUndefined();
    expect(readFileSync(join(red.userDir, 'flows.json'), 'utf8')).not.toContain(SECRET);
    // Stored encrypted with credentialSecret, not in clear text.
    expect(readFileSync(join(red.userDir, 'flows_cred.json'), 'utf8')).not.toContain(SECRET);
    // The editor learns only that a password is set.
    const creds = await red.get('/credentials/conplyent-broker/bk');
    expect(creds.body).toMatchObject({ username: 'nodered', has_password: true });
    expect(creds.text).not.toContain(SECRET);
  });
});
