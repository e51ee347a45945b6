// The CLI as operators use it: a real broker, 22 real agents, `conplyent` run as a subprocess.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type Fleet } from '../../controller/index.js';
import { topics } from '../../protocol/index.js';
import { brokerKinds, startBrokerKind, type TestBroker } from '../helpers/brokers.js';
import { ndjson, runCli, startFleet, type TestFleet } from '../helpers/fleet.js';
import { connectWire, type Wire } from '../helpers/wire.js';

const WEB = Array.from({ length: 10 }, (_, i) => `web-${i + 1}`);
const DB = Array.from({ length: 5 }, (_, i) => `db-${i + 1}`);
const MISC = Array.from({ length: 6 }, (_, i) => `misc-${i + 1}`);
const GONE = 'gone-1';
const ALL_ONLINE = [...WEB, ...DB, ...MISC];

describe.each(brokerKinds())('conplyent CLI on %s', (kind) => {
  let broker: TestBroker;
  let fleet: TestFleet;
  let spy: Wire;
  let work: string;
  // Broker-independent verbs run once, on aedes; Mosquitto gets the fleet-wide and transfer checks.
  const aedesOnly = kind === 'aedes' ? it : it.skip;
  const cli = (args: string[], o: { input?: string; timeoutMs?: number } = {}) => runCli(broker.url, args, o);

  beforeAll(async () => {
    broker = await startBrokerKind(kind);
    fleet = await startFleet(broker.url, [
      ...WEB.map((name, i) => ({ name, labels: { role: 'web', env: i < 5 ? 'prod' : 'dev' } })),
      ...DB.map((name) => ({ name, labels: { role: 'db', env: 'prod' } })),
      ...MISC.map((name) => ({ name, labels: { role: 'misc' } })),
      { name: GONE, labels: { role: 'gone' } },
    ]);
    await fleet.stopAgent(GONE);
    spy = await connectWire(broker.url);
    await spy.client.subscribeAsync([topics.fleetCmd(), 'conplyent/+/cmd'], { qos: 1 });
    work = mkdtempSync(join(tmpdir(), 'conplyent-cli-'));
  }, 60_000);

  afterAll(async () => {
    await spy?.close();
    await fleet?.close();
    await broker?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  }, 30_000);

  it('hosts lists every agent with its state and labels; --json is one host per line', async () => {
    const table = await cli(['hosts']);
    expect(table.code).toBe(0);
    for (const h of ALL_ONLINE) expect(table.stdout).toMatch(new RegExp(`^${h}\\s+online`, 'm'));
    expect(table.stdout).toMatch(new RegExp(`^${GONE}\\s+offline`, 'm'));
    const json = ndjson((await cli(['hosts', '--json'])).stdout);
    expect(json.map((h) => h.name).sort()).toEqual([...ALL_ONLINE, GONE].sort());
    expect(json.find((h) => h.name === 'db-2')).toMatchObject({ type: 'host', online: true, labels: { role: 'db', env: 'prod' } });
  });

  it('a broadcast to all 21 online agents is ONE publish on the fleet topic and every agent answers', async () => {
    const r = await cli(['exec', 'all', '--json', '--', 'echo', 'hello']);
    const lines = ndjson(r.stdout);
    const job = lines[0].job as string;
    expect(lines.filter((l) => l.type === 'final' && l.state === 'ok').map((l) => l.host).sort()).toEqual([...ALL_ONLINE].sort());
    expect(lines.filter((l) => l.type === 'output')).toHaveLength(ALL_ONLINE.length);
    // The stopped agent is part of `all` and reported offline, so the status is 3, not 0.
    expect(lines.filter((l) => l.type === 'final' && l.state === 'offline').map((l) => l.host)).toEqual([GONE]);
    expect(r.code).toBe(3);
    // The spy sees every command publish: exactly one for this job, on conplyent/_all/cmd.
    expect(spy.messages.filter((m) => m.json?.id === job).map((m) => m.topic)).toEqual([topics.fleetCmd()]);
  });

  it('a glob selects exactly the matching hosts, each line prefixed with its host', async () => {
    const r = await cli(['exec', 'web-*', '--', 'echo', 'from-glob']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').sort();
    expect(lines).toEqual(WEB.map((h) => `${h}: from-glob`).sort());
  });

  aedesOnly('labels are ANDed', async () => {
    const r = ndjson((await cli(['ping', 'role=web,env=dev', '--json'])).stdout);
    expect(r.filter((l) => l.type === 'final').map((l) => l.host).sort()).toEqual(WEB.slice(5).sort());
  });

  it('an offline host is reported offline by name and the exit status is 3', async () => {
    const r = await cli(['ping', `web-1,${GONE}`]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(new RegExp(`${GONE}: OFFLINE`));
    expect(r.stderr).toMatch(new RegExp(`1 offline not run \\(${GONE}\\)`));
  });

  it('a host that is online but never answers is reported after the timeout, exit 3', async () => {
    // A retained "online" status with no agent behind it: the host the broker thinks is there but is not.
    const ghost = 'ghost-1';
    const status = { v: 1, host: ghost, online: true, boot: 1, conn: 1, since: Date.now(), startedAt: Date.now(), labels: {}, commands: [] };
    await spy.client.publishAsync(topics.status(ghost), JSON.stringify(status), { qos: 1, retain: true });
    try {
      const r = await cli(['ping', `web-2,${ghost}`, '--timeout', '1', '--json']);
      expect(r.code).toBe(3);
      const finals = ndjson(r.stdout).filter((l) => l.type === 'final');
      expect(finals.find((l) => l.host === ghost)).toMatchObject({ state: 'no-answer', error: { code: 'NO_ANSWER' } });
      expect(finals.find((l) => l.host === 'web-2')).toMatchObject({ state: 'ok' });
      expect(ndjson(r.stdout).at(-1)).toMatchObject({ type: 'summary', exit: 3, states: { 'no-answer': [ghost] } });
    } finally {
      await spy.client.publishAsync(topics.status(ghost), '', { qos: 1, retain: true });
    }
  });

  it('exit codes: 1 when a host fails, 4 when the target matches nothing, 2 for a bad target or broker', async () => {
    const failed = await cli(['exec', 'web-3', '--', 'sh', '-c', 'echo oops >&2; exit 7']);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('web-3: oops');
    expect(failed.stderr).toContain('web-3: FAILED exit 7');
    const none = await cli(['exec', 'nothing-*', '--', 'true']);
    expect(none.code).toBe(4);
    expect(none.stderr).toMatch(/matched no known host/);
    const bad = await cli(['ping', 'web/1']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/web\/1/);
    expect(bad.stderr).not.toMatch(/at .*\.js:\d+/);
    const unknownOption = await cli(['exec', 'web-1', 'uname', '-a']);
    expect(unknownOption.code).toBe(2);
    expect(unknownOption.stderr).toMatch(/unknown option '-a'[\s\S]*go after --/);
    const noBroker = await runCli('mqtt://127.0.0.1:1', ['hosts']);
    expect(noBroker.code).toBe(2);
    expect(noBroker.stderr).toMatch(/cannot connect/);
  });

  it('--json: one parseable event per line in order start, accepted, output, result, final, summary', async () => {
    const r = await cli(['exec', 'db-1', '--json', '--', 'echo', 'json-out']);
    expect(r.code).toBe(0);
    const lines = ndjson(r.stdout);
    expect(lines.map((l) => l.type)).toEqual(['start', 'accepted', 'output', 'result', 'final', 'summary']);
    expect(lines[2]).toMatchObject({ host: 'db-1', stream: 'stdout' });
    expect(Buffer.from(lines[2].data, lines[2].enc === 'base64' ? 'base64' : 'utf8').toString()).toBe('json-out\n');
    expect(lines[4]).toMatchObject({ host: 'db-1', state: 'ok', code: 0 });
    expect(lines[5]).toMatchObject({ exit: 0, total: 1, states: { ok: ['db-1'] } });
  });

  aedesOnly('shell driven through stdin runs one text command per line and exits at EOF', async () => {
    const dir = join(work, 'shell');
    const r = await cli(['shell', 'misc-1,misc-2'], { input: `mkdir ${dir} parents=true\ncd ${dir}\ncwd\nexec echo "two words"\n` });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`misc-1: ${dir}`);
    expect(r.stdout).toContain(`misc-2: ${dir}`);
    expect(r.stdout).toContain('misc-1: two words');
    expect(r.stdout).toContain('misc-2: two words');
    const bad = await cli(['shell', 'misc-1'], { input: 'no_such_command\n' });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/misc-1: REJECTED UNKNOWN_COMMAND/);
  });

  aedesOnly('attach from a second controller gets the whole stream of a job the first one started', async () => {
    let first: Fleet | undefined;
    try {
      first = await connect(broker.url);
      const job = first.run('db-3', 'count', [40, 25]);
      await job.started;
      const attached = await cli(['attach', 'db-3', job.id]);
      expect(attached.code).toBe(0);
      const nums = attached.stdout.trim().split('\n').map((l) => l.replace(/^db-3: /, ''));
      expect(nums.slice(0, 40)).toEqual(Array.from({ length: 40 }, (_, i) => String(i + 1)));
      const [mine] = await job.done();
      expect(mine!.state).toBe('ok');
    } finally {
      await first?.close();
    }
  });

  aedesOnly('kill and input reach a running job on its host', async () => {
    let ctl: Fleet | undefined;
    try {
      ctl = await connect(broker.url);
      const cat = ctl.run('misc-3', 'exec', ['sh', '-c', 'read line; echo "got $line"']);
      await cat.started;
      await new Promise((r) => setTimeout(r, 300));
      const input = await cli(['input', 'misc-3', cat.id, 'hello']);
      expect(input.code).toBe(0);
      const [done] = await cat.done();
      expect(done!.stdout.toString()).toBe('got hello\n');
      const sleeper = ctl.run('misc-4', 'exec', ['sleep', '30']);
      await sleeper.started;
      await new Promise((r) => setTimeout(r, 300));
      const jobs = await cli(['jobs', 'misc-4']);
      expect(jobs.code).toBe(0);
      expect(jobs.stdout).toMatch(new RegExp(`^misc-4\\s+${sleeper.id}\\s+running\\s.*exec sleep 30$`, 'm'));
      const kill = await cli(['kill', 'misc-4', sleeper.id]);
      expect(kill.code).toBe(0);
      const [killed] = await sleeper.done();
      expect(killed!.state).not.toBe('ok');
    } finally {
      await ctl?.close();
    }
  });

  aedesOnly('transfer failures are per host and exit 1: an unwritable remote path, a missing remote file', async () => {
    const local = join(work, 'small.txt');
    writeFileSync(local, 'small\n');
    const put = await cli(['put', 'misc-5,misc-6', local, join(work, 'no-such-dir', 'x.txt')]);
    expect(put.code).toBe(1);
    expect(put.stderr).toMatch(/misc-5: ERROR .*no such file or directory/);
    expect(put.stderr).toMatch(/misc-6: ERROR/);
    const get = await cli(['get', 'misc-5', join(work, 'missing.bin'), join(work, 'got.bin')]);
    expect(get.code).toBe(1);
    expect(get.stderr).toMatch(/misc-5: ERROR/);
    expect(() => readFileSync(join(work, 'got.bin'))).toThrow();
  });

  it('put sends a 20 MB binary file to three hosts and get brings it back byte-identical', async () => {
    const local = join(work, 'big.bin');
    const data = randomBytes(20 * 1024 * 1024);
    writeFileSync(local, data);
    const sum = createHash('sha256').update(data).digest('hex');
    // All agents share this machine: give each its own directory through its shared cwd (a `cd`
    // without a session [cp-env-8]; a `conplyent shell` would move only its own session).
    const hosts = ['web-8', 'web-9', 'web-10'];
    for (const h of hosts) {
      const dir = join(work, h);
      expect((await cli(['run', h, 'mkdir', dir, '-o', 'parents=true'])).code).toBe(0);
      expect((await cli(['run', h, 'cd', dir])).code).toBe(0);
    }
    const put = await cli(['put', hosts.join(','), local, 'copy.bin', '--timeout', '60'], { timeoutMs: 120_000 });
    expect(put.stderr).toBe(`${hosts.length} hosts: ${hosts.length} ok\n`);
    expect(put.code).toBe(0);
    for (const h of hosts) {
      expect(put.stdout).toContain(`${h}: ok ${data.length} bytes, sha256 ${sum}`);
      expect(readFileSync(join(work, h, 'copy.bin')).equals(data)).toBe(true);
    }
    const back = join(work, 'back.bin');
    const get = await cli(['get', 'web-9', join(work, 'web-9', 'copy.bin'), back, '--timeout', '60'], { timeoutMs: 120_000 });
    expect(get.code).toBe(0);
    expect(readFileSync(back).equals(data)).toBe(true);
  }, 120_000);
});
