// The CLI as an operator who lives in Salt, pdsh and mosquitto uses it: waiting is not killing,
// exit statuses that survive a closed pipe, fleet-wide job control, dshbak-style folding, ranges and
// exclusion, nothing queued unless asked. Real brokers, real agents, `conplyent` as a subprocess.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '../../protocol/index.js';
import { brokerKinds, startBrokerKind, type TestBroker } from '../helpers/brokers.js';
import { CLI_MAIN, ndjson, runCli, startFleet, type TestFleet } from '../helpers/fleet.js';
import { connectWire, sleep, type Wire } from '../helpers/wire.js';

const WEB = Array.from({ length: 20 }, (_, i) => `web-${i + 1}`);
const LATE = 'late-1';
const QUEUED = 'late-2';

/** Polls a condition, bounded. */
async function until(pred: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (pred()) return true;
    await sleep(100);
  }
  return pred();
}

describe.each(brokerKinds())('conplyent for operators on %s', (kind) => {
  let broker: TestBroker;
  let fleet: TestFleet;
  let spy: Wire;
  let work: string;
  const aedesOnly = kind === 'aedes' ? it : it.skip;
  const cli = (args: string[], o: { input?: string; timeoutMs?: number } = {}) => runCli(broker.url, args, o);
  /** For CLIs spawned here directly: a private known-hosts file, never the user's real one. */
  const directEnv = () => ({ ...process.env, NO_COLOR: '1', CONPLYENT_BROKER: broker.url, CONPLYENT_KNOWN_HOSTS: join(work, 'known_hosts') });

  beforeAll(async () => {
    broker = await startBrokerKind(kind);
    fleet = await startFleet(broker.url, [
      ...WEB.map((name) => ({ name, labels: { role: 'web' } })),
      { name: 'db-1', labels: { role: 'db' } },
      // No clock allowance: a TTL test need not wait the default 5 s on top of the TTL.
      { name: LATE, labels: { role: 'late' }, clockSkewMs: 0 },
      { name: QUEUED, labels: { role: 'late' }, clockSkewMs: 0 },
    ]);
    spy = await connectWire(broker.url);
    await spy.client.subscribeAsync([topics.fleetCmd(), 'conplyent/+/cmd', 'conplyent/+/job/+'], { qos: 1 });
    work = mkdtempSync(join(tmpdir(), 'conplyent-op-'));
  }, 60_000);

  afterAll(async () => {
    await spy?.close();
    await fleet?.close();
    await broker?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  }, 30_000);

  it('--timeout is how long the CLI waits: the job outlives it, is named still running with attach/kill commands, and finishes', async () => {
    const marker = join(work, 'outlived');
    const gate = join(work, 'outlived-gate');
    // The job waits for a gate the test opens only after the CLI gave up waiting: it is still
    // running then however slow the machine (the wait is long enough for the host to accept it).
    const r = await cli(['exec', 'web-1', '--timeout', '8', '--', 'sh', '-c', `while [ ! -e ${gate} ]; do sleep 0.1; done; touch ${marker}`]);
    writeFileSync(gate, '');
    expect(r.code, r.stderr).toBe(3);
    const job = /job (\S+) on web-1/.exec(r.stderr)![1]!;
    expect(r.stderr).toContain('web-1: RUNNING after --timeout 8 s (the job goes on)');
    expect(r.stderr).toContain('still running on web-1 after --timeout 8 s; the job goes on there');
    expect(r.stderr).toContain(`conplyent attach web-1 ${job}`);
    expect(r.stderr).toContain(`conplyent kill web-1 ${job}`);
    expect(r.stderr).toContain('--kill-after');
    // Nothing was killed: the remote work goes on and completes.
    expect(await until(() => existsSync(marker), 10_000)).toBe(true);
    const later = await cli(['attach', 'web-1', job, '--json']);
    expect(later.code).toBe(0);
    expect(ndjson(later.stdout).find((l) => l.type === 'final')).toMatchObject({ host: 'web-1', state: 'ok', code: 0 });
  }, 120_000);

  it('--kill-after is the job timeout: the agent ends the process tree and the message names the limit and the flag', async () => {
    const marker = join(work, 'killed');
    const r = await cli(['exec', 'web-2', '--kill-after', '1', '--timeout', '20', '--', 'sh', '-c', `sleep 3; touch ${marker}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('web-2: FAILED killed after --kill-after 1 s');
    await sleep(3_000);
    expect(existsSync(marker)).toBe(false);
  });

  it('a closed pipe does not hide a failure: `| head -1` keeps exit 1', async () => {
    const script = `set -o pipefail; "${process.execPath}" "${CLI_MAIN}" exec role=web -- sh -c 'seq 1 20000; exit 1' | head -1`;
    const child = spawn('bash', ['-c', script], { env: directEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const code = await new Promise<number | null>((res) => child.on('exit', res));
    expect(out.trim().split('\n')).toHaveLength(1);
    expect(code, err.slice(-3000)).toBe(1);
    expect(err).toMatch(/20 hosts: 0 ok; 20 failed exit 1 \(web-\[1-20\]\)/);
  });

  it('kill, input and attach take a target: --async starts on 20 hosts, `kill role=web JOB` ends it on every one', async () => {
    const started = await cli(['exec', 'role=web', '--async', '--', 'sleep', '30']);
    expect(started.code).toBe(0);
    const job = started.stdout.trim();
    expect(job).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(started.stderr).toContain(`conplyent attach 'web-[1-20]' ${job}`);
    const input = await cli(['input', 'role=web', job, 'hello']);
    expect(input.code).toBe(0);
    expect(input.stdout).toContain(`web-7: wrote 6 bytes to job ${job}`);
    const kill = await cli(['kill', 'role=web', job]);
    expect(kill.code).toBe(0);
    expect(kill.stdout.trim().split('\n').sort()).toEqual(WEB.map((h) => `${h}: sent SIGTERM to job ${job}`).sort());
    const after = await cli(['attach', 'role=web', job, '--json', '--timeout', '20']);
    const finals = ndjson(after.stdout).filter((l) => l.type === 'final');
    expect(finals.map((f) => f.host).sort()).toEqual([...WEB].sort());
    for (const f of finals) expect(f).toMatchObject({ state: 'failed', killed: true });
    expect(after.code).toBe(1);
  }, 120_000);

  it('attach, kill and input across a target: hosts that never had the job are named once, not failures; none having it is exit 4', async () => {
    const started = await cli(['exec', 'web-[1-2]', '--async', '--', 'echo', 'attached-out']);
    const job = started.stdout.trim();
    const attach = await cli(['attach', 'web-[1-3]', job, '--timeout', '20']);
    expect(attach.code, attach.stderr).toBe(0);
    expect(attach.stdout.split('\n').sort()).toEqual(['', 'web-1: attached-out', 'web-2: attached-out']);
    expect(attach.stderr).toContain(`2 hosts: 2 ok\nno job ${job} on web-3\n`);
    expect(attach.stderr).not.toContain('REJECTED');
    const json = ndjson((await cli(['attach', 'web-[1-3]', job, '--json', '--timeout', '20'])).stdout);
    // The machine format keeps each host's own answer; the summary adds who had no such job.
    expect(json.find((l) => l.type === 'final' && l.host === 'web-3')).toMatchObject({ state: 'rejected', error: { code: 'UNKNOWN_JOB' } });
    expect(json.at(-1)).toMatchObject({ type: 'summary', exit: 0, noJob: ['web-3'] });
    // A kill of a job that already ended there: what was asked holds.
    const kill = await cli(['kill', 'web-[1-3]', job]);
    expect(kill.code, kill.stderr).toBe(0);
    expect(kill.stdout).toContain(`web-1: job ${job} has already ended (exit code 0)`);
    expect(kill.stderr).toContain(`no job ${job} on web-3`);
    const input = await cli(['input', 'web-[1-3]', job, 'late']);
    expect(input.code).toBe(1);
    expect(input.stderr).toContain('web-1: ERROR NOT_RUNNING');
    const nowhere = await cli(['attach', 'db-1', job]);
    expect(nowhere.code).toBe(4);
    expect(nowhere.stderr).toContain(`no job ${job} on db-1: never started there`);
  }, 120_000);

  it('Ctrl-C leaves the job running and prints the attach and kill commands for every host still running', async () => {
    const child = spawn(process.execPath, [CLI_MAIN, 'exec', 'web-[8-10]', '--', 'sleep', '5'], { env: directEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((res) => child.on('exit', res));
    expect(await until(() => /job \S+ on web-\[8-10\]/.test(err), 15_000)).toBe(true);
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    const job = /job (\S+) on/.exec(err)![1]!;
    expect(err).toContain(`interrupted: job ${job} keeps running on web-[8-10].\n  follow: conplyent attach 'web-[8-10]' ${job}\n  stop:   conplyent kill 'web-[8-10]' ${job}\n`);
    // Nothing was killed: every host finishes the job, as attach then shows.
    const later = await cli(['attach', 'web-[8-10]', job, '--timeout', '20']);
    expect(later.code, later.stderr).toBe(0);
  });

  it('--fold prints 20 identical outputs once under one compact host list; the summary groups hosts', async () => {
    const r = await cli(['exec', 'web-[1-20],db-1', '--fold', '--', 'echo', 'same output']);
    expect(r.code).toBe(0);
    expect(r.stdout.match(/same output/g)).toHaveLength(1);
    expect(r.stdout).toContain('\ndb-1,web-[1-20]\n');
    const sorted = await cli(['exec', 'role=web', '--sort', '--', 'echo', 'hi']);
    expect(sorted.stdout).toBe(WEB.map((h) => `${h}: hi\n`).join(''));
  });

  it('host ranges and --exclude, as pdsh users type them', async () => {
    const r = await cli(['exec', 'web-[1-5,7]', '-x', 'web-3', '--json', '--', 'echo', 'r']);
    expect(r.code).toBe(0);
    expect(ndjson(r.stdout).filter((l) => l.type === 'final').map((l) => l.host).sort()).toEqual(['web-1', 'web-2', 'web-4', 'web-5', 'web-7']);
    const none = await cli(['exec', 'web-[1-2]', '--exclude', 'role=web', '--', 'true']);
    expect(none.code).toBe(4);
  });

  // Several CLI runs in a row: each is a process start and a broker connection, slow on a busy machine.
  it('every verb that takes a target honours -x; a verb of one host refuses it rather than ignore it', async () => {
    const src = join(work, 'put-x.txt');
    writeFileSync(src, 'x');
    const put = await cli(['put', 'web-[1-3]', '-x', 'web-2', src, join(work, 'put-x-copy.txt'), '--json']);
    expect(ndjson(put.stdout).filter((l) => l.type === 'final').map((l) => l.host).sort()).toEqual(['web-1', 'web-3']);
    const hosts = await cli(['hosts', 'web-[1-3]', '-x', 'web-2', '--json']);
    expect(ndjson(hosts.stdout).map((l) => l.name).sort()).toEqual(['web-1', 'web-3']);
    const shell = await cli(['shell', 'web-[1-3]', '-x', 'web-2'], { input: 'user_name\n' });
    expect(shell.stdout.split('\n').filter(Boolean).map((l) => l.split(':')[0]).sort()).toEqual(['web-1', 'web-3']);
    expect((await cli(['get', 'web-1', '-x', 'web-2', src, join(work, 'got-x')])).code).toBe(2);
  }, 120_000);

  aedesOnly('built-ins render for people; --json keeps the machine format', async () => {
    const dir = join(work, 'listing');
    mkdirSync(join(dir, 'sub'), { recursive: true });
    writeFileSync(join(dir, 'file.txt'), 'abc');
    const ls = await cli(['run', 'web-1', 'ls', dir]);
    expect(ls.stdout).toBe('web-1: file.txt\nweb-1: sub/\n');
    const info = await cli(['run', 'web-1', 'os_info']);
    expect(info.stdout).toMatch(/^web-1: os: +\S+/m);
    expect(info.stdout).toMatch(/^web-1: memory: +[\d.]+ \S+ free of/m);
    const hash = await cli(['run', 'web-1', 'hash', join(dir, 'file.txt')]);
    expect(hash.stdout).toMatch(/^web-1: sha256: +ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad$/m);
    const json = ndjson((await cli(['run', 'web-1', 'hash', join(dir, 'file.txt'), '--json'])).stdout);
    expect(json.find((l) => l.type === 'final').value).toMatchObject({ size: 3, sha256: expect.any(String) });
    const bin = Buffer.from([0, 1, 2, 255, 10, 13, 0x80]);
    writeFileSync(join(dir, 'bin'), bin);
    const rd = spawn(process.execPath, [CLI_MAIN, 'run', 'web-1', 'rdfile', join(dir, 'bin')], { env: directEnv() });
    const chunks: Buffer[] = [];
    let err = '';
    rd.stdout.on('data', (d: Buffer) => chunks.push(d));
    rd.stderr.on('data', (d) => (err += d));
    expect(await new Promise((res) => rd.on('exit', res))).toBe(0);
    expect(Buffer.concat(chunks)).toEqual(bin);
    expect(err).toContain('sha256');
  }, 120_000);

  it('a command to an offline host is never run later without --queue: the late copy answers EXPIRED', async () => {
    const marker = join(work, 'late-ran');
    await fleet.stopAgent(LATE);
    const r = await cli(['exec', LATE, '--timeout', '1', '--ttl', '1', '--', 'touch', marker]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`offline: ${LATE}; not run`);
    const job = /job (\S+) on/.exec(r.stderr)![1]!;
    await sleep(1_500);
    await fleet.startAgent(LATE);
    if (kind === 'aedes' || kind === 'mosquitto') {
      const ev = await spy.waitFor((m) => m.topic === topics.job(LATE, job) && m.json?.type === 'error', 10_000, 'the EXPIRED answer');
      expect(ev.json).toMatchObject({ error: 'EXPIRED' });
    }
    expect(existsSync(marker)).toBe(false);
  });

  it('--queue: an offline host runs the command when it returns, and the summary says so', async () => {
    const marker = join(work, 'queued-ran');
    await fleet.stopAgent(QUEUED);
    const r = await cli(['exec', QUEUED, '--timeout', '1', '--queue', '--', 'touch', marker]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(new RegExp(`offline: ${QUEUED} will run it when they return within --ttl 300 s`));
    await fleet.startAgent(QUEUED);
    expect(await until(() => existsSync(marker), 10_000)).toBe(true);
  });

  it('[cp-env-12] two concurrent shells on one host each keep their own cd', async () => {
    const a = join(work, 'shell-a');
    const b = join(work, 'shell-b');
    mkdirSync(a, { recursive: true });
    mkdirSync(b, { recursive: true });
    // A's cwd is asked after B's cd: with one shared directory it would print B's.
    const [ra, rb] = await Promise.all([cli(['shell', 'web-4'], { input: `cd ${a}\nexec sleep 2\ncwd\n` }), cli(['shell', 'web-4'], { input: `cd ${b}\ncwd\n` })]);
    expect(ra.code).toBe(0);
    expect(ra.stdout.trim().split('\n').at(-1)).toBe(`web-4: ${a}`);
    expect(rb.stdout.trim().split('\n').at(-1)).toBe(`web-4: ${b}`);
    // Commands without a session still share the agent's directory, as before.
    expect((await cli(['run', 'web-4', 'cwd'])).stdout).not.toContain(a);
  });

  aedesOnly('every usage error exits 2', async () => {
    const bad = join(work, 'bad.json');
    writeFileSync(bad, '{ not json');
    for (const args of [['exce', 'all'], [], ['exec', '--bogus', 'all', '--', 'true'], ['--bogus'], ['hosts', '--config', bad], ['exec', 'all', '--kill-after', 'soon', '--', 'true'], ['exec', 'all', '--fold', '--json', '--', 'true']]) {
      const r = await cli(args);
      expect(r.code, `conplyent ${args.join(' ')}: ${r.stderr}`).toBe(2);
    }
  });

  aedesOnly('a dangerous command to several hosts asks first on a terminal; "n" sends nothing', async () => {
    const before = spy.messages.filter((m) => m.json?.cmd === 'reboot').length;
    // script(1) gives the CLI a pseudo-terminal; what we write to its stdin is what the operator types.
    const cmdline = `"${process.execPath}" "${CLI_MAIN}" run 'web-[1-2]' reboot`;
    const child = spawn('script', ['-qefc', cmdline, '/dev/null'], { env: directEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    expect(await until(() => out.includes('[y/N]'), 10_000)).toBe(true);
    expect(out).toContain('reboot on 2 hosts (web-[1-2])?');
    child.stdin.write('n\r');
    const code = await new Promise<number | null>((res) => child.on('exit', res));
    expect(out).toContain('nothing was sent');
    expect(code).toBe(1);
    expect(spy.messages.filter((m) => m.json?.cmd === 'reboot').length).toBe(before);
  });

  aedesOnly('get on a terminal shows a percentage of the size it asked for first, then the checked file', async () => {
    const src = join(work, 'get-src.bin');
    const dst = join(work, 'get-dst.bin');
    const data = Buffer.alloc(2 * 1024 * 1024, 7);
    writeFileSync(src, data);
    const cmdline = `"${process.execPath}" "${CLI_MAIN}" get web-1 '${src}' '${dst}'`;
    const child = spawn('script', ['-qefc', cmdline, '/dev/null'], { env: directEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    let screen = '';
    child.stdout.on('data', (d) => (screen += d));
    const code = await new Promise<number | null>((res) => child.on('exit', res));
    expect(code, screen).toBe(0);
    // The bar is drawn at its first update at least: a share of the whole, which was known up front.
    expect(screen).toMatch(/get web-1:\S+ \[[#.]{30}\] \d{1,3}% [\d.]+ MiB\/2\.0 MiB/);
    expect(screen).toContain(`web-1: ok 2097152 bytes to ${dst}`);
    expect(readFileSync(dst).equals(data)).toBe(true);
  });

  aedesOnly('conplyent shell driven through tmux: typed commands run and answer on the screen', async () => {
    const session = `cp-${process.pid}-${Date.now()}`;
    const env = `NO_COLOR=1 CONPLYENT_BROKER=${broker.url} CONPLYENT_HISTORY=${join(work, 'hist')} CONPLYENT_KNOWN_HOSTS=${join(work, 'known_hosts')}`;
    const tmux = (...args: string[]) =>
      new Promise<string>((res, rej) => {
        const c = spawn('tmux', args, { stdio: ['ignore', 'pipe', 'pipe'] });
        let o = '';
        c.stdout.on('data', (d) => (o += d));
        c.on('exit', (code) => (code === 0 ? res(o) : rej(new Error(`tmux ${args.join(' ')} exited ${code}`))));
      });
    await tmux('new-session', '-d', '-s', session, '-x', '150', '-y', '40', `env ${env} "${process.execPath}" "${CLI_MAIN}" shell web-3`);
    try {
      const screen = () => tmux('capture-pane', '-p', '-t', session);
      let text = '';
      const waitScreen = async (s: string) => {
        const end = Date.now() + 10_000;
        while (Date.now() < end && !(text = await screen()).includes(s)) await sleep(150);
        return text;
      };
      expect(await waitScreen('Enter command:')).toContain('1 host(s): web-3');
      await tmux('send-keys', '-t', session, 'exec echo typed-in-tmux', 'Enter');
      expect(await waitScreen('web-3: typed-in-tmux')).toContain('web-3: typed-in-tmux');
      await tmux('send-keys', '-t', session, 'help', 'Enter');
      expect(await waitScreen('cd <dir>')).toContain('cd <dir>');
      await tmux('send-keys', '-t', session, 'exit', 'Enter');
    } finally {
      await tmux('kill-session', '-t', session).catch(() => {});
    }
  });
});
