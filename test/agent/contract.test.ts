// The agent as any MQTT client sees it, knowing only topics.md: presence, commands in JSON and text,
// fleet targeting, errors as data, at-most-once, TTL. Runs on aedes and on Mosquitto.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createAgent, type Agent } from '../../agent/index.js';
import { clusterKinds, startBrokerKind, type TestBroker } from '../helpers/brokers.js';
import { connectWire, result, sleep, type Wire } from '../helpers/wire.js';

describe.each(clusterKinds())('agent contract on %s', (kind) => {
  let broker: TestBroker;
  let wire: Wire;
  let dir: string;
  const agents: Agent[] = [];

  async function agent(name: string, labels: Record<string, string> = {}): Promise<Agent> {
    const a = createAgent({ broker: broker.url, name, labels, stateDir: join(dir, name), keepaliveSec: 5 });
    agents.push(a);
    return a;
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cp-contract-'));
    broker = await startBrokerKind(kind);
    wire = await connectWire(broker.controllerUrl);
    const web = await agent('web-1', { role: 'web', env: 'prod' });
    web.registerCommand('greet', (ctx) => `hello ${ctx.args[0]}`, { args: z.tuple([z.string()]), usage: '<name>', summary: 'says hello' });
    web.registerBackgroundCommand('progress', async (ctx) => {
      for (let i = 1; i <= 3; i++) await ctx.update({ step: i });
      return 'done';
    });
    await web.start();
    await (await agent('web-2', { role: 'web', env: 'dev' })).start();
    await (await agent('db-1', { role: 'db' })).start();
  });

  afterAll(async () => {
    for (const a of agents) await a.stop();
    await wire?.close();
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('[cp-presence-1] publishes retained online presence with facts, labels and its commands', async () => {
    const m = await wire.waitFor((m) => m.topic === 'conplyent/web-1/status' && m.json.online === true);
    expect(m.json.labels).toEqual({ role: 'web', env: 'prod' });
    expect(m.json.facts).toMatchObject({ platform: process.platform, nodeVersion: process.version });
    expect(m.json.commands).toContainEqual({ name: 'greet', kind: 'foreground', usage: '<name>', summary: 'says hello' });
    expect(m.json.commands).toContainEqual(expect.objectContaining({ name: 'exec', kind: 'background' }));
    // A late subscriber gets it retained.
    const late = await connectWire(broker.controllerUrl);
    await late.waitFor((m) => m.topic === 'conplyent/web-1/status' && m.json.online === true, 5_000, 'retained presence');
    await late.close();
  });

  it('[cp-evt-1] runs a JSON command: accepted, result, sequence numbers from 0', async () => {
    const evs = await wire.run('web-1', { id: 'ping-json', cmd: 'ping' });
    expect(evs.map((e) => e.type)).toEqual(['accepted', 'result']);
    expect(evs.map((e) => e.seq)).toEqual([0, 1]);
    expect(result(evs)).toMatchObject({ code: 0, value: { pong: true, host: 'web-1' } });
  });

  it('[cp-text-1] runs a plain-text command with quoting and options, like mosquitto_pub -m', async () => {
    const evs = await wire.run('web-1', 'id=txt-1 exec sh -c "printf \'%s\' \\"a b\\""');
    expect(evs.filter((e) => e.type === 'output').map((e) => e.data).join('')).toBe('a b');
    expect(result(evs).code).toBe(0);
  });

  it('[cp-env-2] assigns a job id when the sender gave none and reports it in the first event', async () => {
    wire.send('conplyent/web-1/cmd', { cmd: 'cwd' });
    const m = await wire.waitFor((m) => /^conplyent\/web-1\/job\/[^/]+$/.test(m.topic) && m.json.type === 'accepted' && m.json.cmd === 'cwd');
    expect(m.json.job).toMatch(/^[A-Za-z0-9_-]{10,}$/);
    await wire.waitFor((x) => x.topic === m.topic && x.json.type === 'result');
  });

  it('[cp-evt-6] exec reports the process exit code and streams stdout and stderr live', async () => {
    const evs = await wire.run('web-2', { id: 'exit-3', cmd: 'exec', args: ['sh', '-c', 'echo out; echo err >&2; exit 3'] });
    const out = evs.filter((e) => e.type === 'output');
    expect(out).toContainEqual(expect.objectContaining({ stream: 'stdout', data: 'out\n' }));
    expect(out).toContainEqual(expect.objectContaining({ stream: 'stderr', data: 'err\n' }));
    expect(result(evs)).toMatchObject({ type: 'result', code: 3, events: out.length });
  });

  it('[cp-fleet-3] one publish on the fleet topic reaches exactly the hosts its target selects', async () => {
    const cases: [string, string[]][] = [
      ['role=web', ['web-1', 'web-2']],
      ['role=web,env=prod', ['web-1']],
      ['web-*', ['web-1', 'web-2']],
      ['db-1,web-2', ['db-1', 'web-2']],
      ['all', ['db-1', 'web-1', 'web-2']],
    ];
    for (const [target, hosts] of cases) {
      const id = `fleet-${target.replace(/[^a-z0-9]/gi, '')}`;
      wire.send('conplyent/_all/cmd', { id, cmd: 'ping', target });
      for (const h of hosts) await wire.waitFor((m) => m.topic === `conplyent/${h}/job/${id}` && m.json.type === 'result', 15_000, `${h} answering ${target}`);
      await sleep(150);
      const answered = [...new Set(wire.messages.filter((m) => m.topic.endsWith(`/job/${id}`)).map((m) => m.json.host))].sort();
      expect(answered, target).toEqual(hosts);
    }
  });

  it('[cp-fleet-1] a fleet command without a target is refused by every agent, never run', async () => {
    wire.send('conplyent/_all/cmd', { id: 'no-target', cmd: 'exec', args: ['true'] });
    const m = await wire.waitFor((m) => m.topic === 'conplyent/db-1/job/no-target' && m.json.type === 'error');
    expect(m.json).toMatchObject({ error: 'BAD_TARGET', code: -1 });
  });

  it('runs a registered custom command from any client, with its argument schema enforced', async () => {
    expect(result(await wire.run('web-1', { cmd: 'greet', args: ['ops'] }))).toMatchObject({ code: 0, value: 'hello ops' });
    const bad = result(await wire.run('web-1', { cmd: 'greet', args: [] }));
    expect(bad).toMatchObject({ type: 'error', error: 'BAD_ARGS', code: -1 });
    expect(bad.message).toContain('usage: greet <name>');
    const evs = await wire.run('web-1', { cmd: 'progress' });
    expect(evs.filter((e) => e.stream === 'update').map((e) => JSON.parse(e.data))).toEqual([{ step: 1 }, { step: 2 }, { step: 3 }]);
  });

  it('[cp-dispatch-2] unknown commands, including prototype names, are INVALID_PARAMETER', async () => {
    for (const cmd of ['nope', '__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      const r = result(await wire.run('web-1', { cmd }));
      expect(r, cmd).toMatchObject({ type: 'error', error: 'UNKNOWN_COMMAND', code: -1 });
    }
  });

  it('bad input gets a clear error and the agent keeps serving', async () => {
    const before = wire.messages.length;
    wire.send('conplyent/web-1/cmd', '{not json');
    wire.send('conplyent/web-1/cmd', Buffer.from([0xff, 0xfe, 0x00]));
    wire.send('conplyent/web-1/cmd', JSON.stringify({ id: 'big', cmd: 'wrfile', args: ['x', 'a'.repeat(600 * 1024)] }));
    wire.send('conplyent/web-1/cmd', '[1,2]');
    wire.send('conplyent/web-1/cmd', 'id=q1 exec "unterminated');
    const errs = async (n: number) => {
      for (let i = 0; i < 50 && wire.messages.slice(before).filter((m) => m.topic === 'conplyent/web-1/errors').length < n; i++) await sleep(100);
      return wire.messages.slice(before).filter((m) => m.topic === 'conplyent/web-1/errors').map((m) => m.json);
    };
    const notices = await errs(5);
    expect(notices.map((n) => n.error).sort()).toEqual(['MALFORMED', 'MALFORMED', 'MALFORMED', 'MALFORMED', 'TOO_LARGE']);
    for (const n of notices) expect(n.message.length).toBeGreaterThan(10);

    expect(result(await wire.run('web-1', { cmd: 'ping', v: 2 }))).toMatchObject({ error: 'UNSUPPORTED_VERSION' });
    expect(result(await wire.run('web-1', { cmd: 'ping', ttlMs: 'soon' }))).toMatchObject({ error: 'BAD_ENVELOPE' });
    expect(result(await wire.run('web-1', { cmd: 'cd', args: [{ a: 1 }] }))).toMatchObject({ error: 'BAD_ARGS' });
    expect(result(await wire.run('web-1', { cmd: 'kill', args: ['no-such-job'] }))).toMatchObject({ error: 'UNKNOWN_JOB', code: -1 });
    expect(result(await wire.run('web-1', { cmd: 'send_input', args: ['no-such-job', 'x'] }))).toMatchObject({ error: 'UNKNOWN_JOB' });
    expect(result(await wire.run('web-1', { cmd: 'replay', args: ['no-such-job', 0] }))).toMatchObject({ error: 'UNKNOWN_JOB' });
    expect(result(await wire.run('web-1', { cmd: 'ls', args: ['/definitely/not/here'] }))).toMatchObject({ error: 'PATH', code: 1 });
    expect(result(await wire.run('web-1', { cmd: 'ping' }))).toMatchObject({ code: 0 });
  });

  it('[cp-mqtt-2] a command delivered with the retain flag is never run, also on resubscribe', async () => {
    const marker = join(dir, 'retained-marker');
    wire.client.publish('conplyent/db-1/cmd', JSON.stringify({ id: 'ret-1', cmd: 'exec', args: ['touch', marker] }), { qos: 1, retain: true });
    // The live delivery to db-1 is not retained (MQTT forwards retain=0 to existing subscribers) so it runs once;
    // a new subscription (a restarted agent) receives the retained copy, which must be refused.
    await wire.waitFor((m) => m.topic === 'conplyent/db-1/job/ret-1' && m.json.type === 'result');
    rmSync(marker, { force: true });
    const again = createAgent({ broker: broker.url, name: 'db-2', stateDir: join(dir, 'db-2') });
    agents.push(again);
    wire.client.publish('conplyent/db-2/cmd', JSON.stringify({ cmd: 'exec', args: ['touch', marker] }), { qos: 1, retain: true });
    await sleep(200);
    await again.start();
    const n = await wire.waitFor((m) => m.topic === 'conplyent/db-2/errors' && m.json.error === 'RETAINED', 5_000, 'the RETAINED notice');
    expect(n.json.message).toContain('retain');
    await sleep(200);
    expect(existsSync(marker)).toBe(false);
    wire.client.publish('conplyent/db-1/cmd', '', { qos: 1, retain: true });
    wire.client.publish('conplyent/db-2/cmd', '', { qos: 1, retain: true });
  });

  it('[cp-dedupe-1] a repeated job id is never executed twice', async () => {
    const marker = join(dir, 'dedupe-marker');
    const cmd = { id: 'once-1', cmd: 'exec', args: ['sh', '-c', `echo x >> ${marker}`] };
    await wire.run('db-1', cmd);
    wire.send('conplyent/db-1/cmd', cmd);
    const dup = await wire.waitFor((m) => m.topic === 'conplyent/db-1/errors' && m.json.type === 'duplicate' && m.json.job === 'once-1');
    expect(dup.json.message).toContain('not run again');
    await sleep(200);
    expect((await import('node:fs')).readFileSync(marker, 'utf8')).toBe('x\n');
    expect(wire.jobEvents('db-1', 'once-1').filter((e) => e.type === 'accepted')).toHaveLength(1);
  });

  it('[cp-env-5] a command older than its TTL is answered expired and never run', async () => {
    const marker = join(dir, 'expired-marker');
    const r = result(await wire.run('db-1', { cmd: 'exec', args: ['touch', marker], sentAt: Date.now() - 60_000, ttlMs: 1_000 }));
    expect(r).toMatchObject({ type: 'error', error: 'EXPIRED', code: 1 });
    expect(existsSync(marker)).toBe(false);
  });

  it('[cp-env-6] a command from the future beyond the clock-skew allowance is refused', async () => {
    const r = result(await wire.run('db-1', { cmd: 'ping', sentAt: Date.now() + 3_600_000 }));
    expect(r).toMatchObject({ type: 'error', error: 'CLOCK_SKEW' });
  });

  it('[cp-env-7] timeoutMs kills the process tree and the result says timedOut', async () => {
    const evs = await wire.run('web-2', { cmd: 'exec', args: ['sh', '-c', 'sleep 30 & sleep 30'], timeoutMs: 300 });
    expect(result(evs)).toMatchObject({ type: 'result', timedOut: true });
  });

  it('exec with send_input and kill, addressed by job id', async () => {
    wire.send('conplyent/web-2/cmd', { id: 'cat-1', cmd: 'exec', args: ['cat'] });
    await wire.waitFor((m) => m.topic === 'conplyent/web-2/job/cat-1' && m.json.type === 'accepted');
    expect(result(await wire.run('web-2', { cmd: 'send_input', args: ['cat-1', 'hello'], opts: { newline: true } })).code).toBe(0);
    await wire.waitFor((m) => m.topic === 'conplyent/web-2/job/cat-1' && m.json.type === 'output' && m.json.data === 'hello\n');
    expect(result(await wire.run('web-2', { cmd: 'is_alive', args: ['cat-1'] })).value).toMatchObject({ alive: true });
    expect(result(await wire.run('web-2', { cmd: 'kill', args: ['cat-1'] })).code).toBe(0);
    const end = await wire.waitFor((m) => m.topic === 'conplyent/web-2/job/cat-1' && m.json.type === 'result');
    expect(end.json).toMatchObject({ killed: true, signal: 'SIGTERM' });
    expect(result(await wire.run('web-2', { cmd: 'kill', args: ['cat-1'] }))).toMatchObject({ error: 'NOT_RUNNING' });
  });

  it('[cp-replay-1] replay re-publishes a finished job\'s events from a sequence number', async () => {
    await wire.run('web-1', { id: 'to-replay', cmd: 'exec', args: ['sh', '-c', 'echo one; echo two'] });
    const before = wire.jobEvents('web-1', 'to-replay').length;
    const r = result(await wire.run('web-1', { cmd: 'replay', args: ['to-replay', 1] }));
    expect(r.value).toMatchObject({ job: 'to-replay', replayed: before - 1 });
    for (let i = 0; i < 50 && wire.jobEvents('web-1', 'to-replay').length < 2 * before - 1; i++) await sleep(50);
    const again = wire.jobEvents('web-1', 'to-replay').slice(before);
    expect(again.map((e) => e.seq)).toEqual([...Array(before - 1).keys()].map((i) => i + 1));
  });
});
