// Every built-in of the Conplyent Shell over the wire: a real aedes broker, a real agent, and a plain
// mqtt.js client that knows only topics.md. Success and error path of each command.
import { createHash } from 'node:crypto';
import { mkdtempSync, promises as fs, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent, type Agent } from '../../agent/index.js';
import { startAedes, type TestBroker } from '../helpers/brokers.js';
import { connectWire, result, sleep, type Wire } from '../helpers/wire.js';
import { pidAlive, waitFor } from './shell-harness.js';

const HOST = 'shell-1';
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
/** The bytes of a job's output events, decoded as the wire marks them [cp-evt-3]. */
const bytesOf = (evs: any[], stream = 'stdout') =>
  Buffer.concat(evs.filter((e) => e.type === 'output' && e.stream === stream).map((e) => Buffer.from(e.data, e.enc === 'base64' ? 'base64' : 'utf8')));

describe('the Conplyent Shell over MQTT (aedes)', () => {
  let broker: TestBroker;
  let wire: Wire;
  let dir: string;
  let work: string;
  let agent: Agent;
  const powerCalls: string[] = [];
  const run = (cmd: object | string) => wire.run(HOST, cmd).then(result);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cp-shell-e2e-'));
    work = join(dir, 'work');
    await fs.mkdir(work);
    broker = await startAedes();
    wire = await connectWire(broker.url);
    agent = createAgent({ broker: broker.url, name: HOST, stateDir: join(dir, 'state'), keepaliveSec: 5, power: async (a) => void powerCalls.push(a) });
    await agent.start();
    expect(await run({ cmd: 'cd', args: [work] })).toMatchObject({ code: 0, value: work });
  });

  afterAll(async () => {
    await agent?.stop();
    await wire?.close();
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('announces every built-in with kind, usage and summary in presence', async () => {
    const m = await wire.waitFor((m) => m.topic === `conplyent/${HOST}/status` && m.json.online === true);
    const names = m.json.commands.map((c: any) => c.name);
    for (const n of ['cd', 'cwd', 'ls', 'mkdir', 'rm', 'touch', 'wrfile', 'hash', 'rdfile', 'exec', 'send_input', 'kill', 'is_alive', 'jobs', 'ping', 'os_info', 'user_name', 'reboot', 'shutdown', 'close_server', 'replay']) {
      expect(names).toContain(n);
    }
    expect(m.json.commands).toContainEqual(expect.objectContaining({ name: 'mkdir', kind: 'foreground', usage: '<path> [parents=true]', summary: expect.any(String) }));
    expect(m.json.commands).toContainEqual(expect.objectContaining({ name: 'rdfile', kind: 'background' }));
  });

  it('cd, cwd, mkdir, touch, ls, rm: the file system from a text client, errors as PATH / BAD_ARGS', async () => {
    expect(await run('id=m1 mkdir a/b parents=true')).toMatchObject({ code: 0, value: join(work, 'a/b') });
    expect(await run('id=m2 mkdir a')).toMatchObject({ type: 'error', error: 'PATH', code: 1 });
    expect(await run('id=m3 mkdir')).toMatchObject({ type: 'error', error: 'BAD_ARGS', code: -1, message: expect.stringContaining('usage: mkdir') });
    expect(await run('id=c1 cd a')).toMatchObject({ value: join(work, 'a') });
    expect(await run('id=c2 cwd')).toMatchObject({ value: join(work, 'a') });
    expect(await run('id=c3 cd ..')).toMatchObject({ value: work });
    expect(await run('id=c4 cd "no such dir"')).toMatchObject({ error: 'PATH', message: expect.stringContaining('no such dir') });
    expect(await run('id=t1 touch a/file.txt')).toMatchObject({ value: { path: join(work, 'a/file.txt'), created: true } });
    expect(await run('id=t2 touch a/file.txt')).toMatchObject({ value: { created: false } });
    expect(await run('id=t3 touch nowhere/x')).toMatchObject({ error: 'PATH' });
    expect(await run('id=l1 ls a')).toMatchObject({ value: { path: join(work, 'a'), dirs: ['b'], files: ['file.txt'], links: [], others: [] } });
    expect(await run('id=l2 ls a all=maybe')).toMatchObject({ error: 'BAD_ARGS' });
    expect(await run('id=r1 rm a')).toMatchObject({ error: 'PATH', message: expect.stringContaining('recursive=true') });
    expect(await run('id=r2 rm a recursive=true')).toMatchObject({ code: 0, value: { removed: true } });
    expect(await run('id=r3 rm a')).toMatchObject({ error: 'PATH' });
    expect(await run('id=r4 rm a force=true')).toMatchObject({ code: 0, value: { removed: false } });
  });

  it('wrfile and hash are binary-safe; a chunked upload by offset matches its hash; rdfile streams it back', async () => {
    const file = Buffer.concat(Array.from({ length: 1200 }, (_, i) => Buffer.from([...Array(256).keys()].map((b) => (b + i) & 255))));
    const chunk = 100 * 1024;
    for (let off = 0; off < file.length; off += chunk) {
      const r = await run({ cmd: 'wrfile', args: ['up.bin', file.subarray(off, off + chunk).toString('base64')], opts: { encoding: 'base64', offset: off } });
      expect(r).toMatchObject({ code: 0, value: { bytes: Math.min(chunk, file.length - off) } });
    }
    expect(await run({ cmd: 'hash', args: ['up.bin'] })).toMatchObject({ value: { size: file.length, sha256: sha(file) } });
    const evs = await wire.run(HOST, { cmd: 'rdfile', args: ['up.bin'] });
    expect(bytesOf(evs).equals(file)).toBe(true);
    expect(result(evs)).toMatchObject({ code: 0, value: { size: file.length, bytes: file.length, sha256: sha(file) } });
    const part = await wire.run(HOST, { cmd: 'rdfile', args: ['up.bin'], opts: { offset: 10, length: 20 } });
    expect(bytesOf(part).equals(file.subarray(10, 30))).toBe(true);

    expect(await run('id=w1 wrfile note.txt "hello world"')).toMatchObject({ value: { bytes: 11, size: 11 } });
    expect(await run('id=w2 wrfile note.txt "!" append=true')).toMatchObject({ value: { size: 12 } });
    expect(await fs.readFile(join(work, 'note.txt'), 'utf8')).toBe('hello world!');
    expect(await run({ cmd: 'wrfile', args: ['x', '@@'], opts: { encoding: 'base64' } })).toMatchObject({ error: 'BAD_ARGS' });
    expect(await run({ cmd: 'wrfile', args: ['no/dir/x', 'a'] })).toMatchObject({ error: 'PATH' });
    expect(await run({ cmd: 'hash', args: ['missing'] })).toMatchObject({ error: 'PATH' });
    expect(await run({ cmd: 'rdfile', args: ['missing'] })).toMatchObject({ error: 'PATH', message: expect.stringContaining('missing') });
  });

  it('exec: argv and shell forms, exit codes, SPAWN errors; jobs and is_alive see it', async () => {
    const argv = await wire.run(HOST, { cmd: 'exec', args: ['printf', '%s|', 'a b', '$HOME'] });
    expect(bytesOf(argv).toString()).toBe('a b|$HOME|');
    const shell = await wire.run(HOST, 'id=sh1 exec "echo $((6*7)) | tr 4 X" shell=true');
    expect(bytesOf(shell).toString()).toBe('X2\n');
    expect(result(shell)).toMatchObject({ code: 0, signal: null });
    expect(await run({ cmd: 'exec', args: ['sh', '-c', 'exit 7'] })).toMatchObject({ type: 'result', code: 7 });
    expect(await run({ cmd: 'exec', args: ['definitely-not-a-program'] })).toMatchObject({ type: 'error', error: 'SPAWN', code: 1 });
    expect(await run({ cmd: 'exec', args: [] })).toMatchObject({ error: 'BAD_ARGS' });

    wire.send(`conplyent/${HOST}/cmd`, { id: 'long-1', cmd: 'exec', args: ['sleep', '30'] });
    await wire.waitFor((m) => m.topic === `conplyent/${HOST}/job/long-1` && m.json.type === 'accepted');
    expect(await run({ cmd: 'is_alive', args: ['long-1'] })).toMatchObject({ value: { job: 'long-1', alive: true } });
    const jobs = await run({ cmd: 'jobs' });
    expect(jobs.value).toContainEqual(expect.objectContaining({ id: 'long-1', cmd: 'exec', state: 'running', kind: 'background' }));
    expect(await run({ cmd: 'kill', args: ['long-1'], opts: { signal: 'KILL' } })).toMatchObject({ value: { signal: 'SIGKILL' } });
    await wire.waitFor((m) => m.topic === `conplyent/${HOST}/job/long-1` && m.json.type === 'result');
    expect(await run({ cmd: 'is_alive', args: ['long-1'] })).toMatchObject({ value: { alive: false } });
    expect(await run({ cmd: 'is_alive', args: ['never-was'] })).toMatchObject({ error: 'UNKNOWN_JOB', code: -1 });
    expect(await run({ cmd: 'kill', args: ['long-1'], opts: { signal: 'SIGBOGUS' } })).toMatchObject({ error: 'BAD_ARGS' });
  });

  it('kill ends the whole process tree of an exec', async () => {
    wire.send(`conplyent/${HOST}/cmd`, { id: 'tree-1', cmd: 'exec', args: ['sh', '-c', 'sleep 100 & echo $$ $!; sleep 100'] });
    const line = await wire.waitFor((m) => m.topic === `conplyent/${HOST}/job/tree-1` && m.json.type === 'output');
    const pids = String(line.json.data).trim().split(' ').map(Number);
    expect(pids).toHaveLength(2);
    expect(pids.every(pidAlive)).toBe(true);
    expect(await run({ cmd: 'kill', args: ['tree-1'] })).toMatchObject({ code: 0 });
    const end = await wire.waitFor((m) => m.topic === `conplyent/${HOST}/job/tree-1` && m.json.type === 'result');
    expect(end.json).toMatchObject({ code: null, signal: 'SIGTERM', killed: true });
    expect(await waitFor(() => !pids.some(pidAlive))).toBe(true);
  });

  it('send_input reaches the program (text and base64), end=true closes stdin; an ended job is NOT_RUNNING', async () => {
    wire.send(`conplyent/${HOST}/cmd`, { id: 'cat-e2e', cmd: 'exec', args: ['cat'] });
    await wire.waitFor((m) => m.topic === `conplyent/${HOST}/job/cat-e2e` && m.json.type === 'accepted');
    expect(await run('id=si1 send_input cat-e2e "line one" newline=true')).toMatchObject({ value: { bytes: 9, ended: false } });
    const bin = Buffer.from([0xff, 0x00, 0x0a]);
    expect(await run({ cmd: 'send_input', args: ['cat-e2e', bin.toString('base64')], opts: { encoding: 'base64', end: true } })).toMatchObject({ value: { ended: true } });
    await wire.waitFor((m) => m.topic === `conplyent/${HOST}/job/cat-e2e` && m.json.type === 'result');
    const evs = wire.jobEvents(HOST, 'cat-e2e');
    expect(bytesOf(evs).equals(Buffer.concat([Buffer.from('line one\n'), bin]))).toBe(true);
    expect(result(evs)).toMatchObject({ code: 0 });
    expect(await run({ cmd: 'send_input', args: ['cat-e2e', 'late'] })).toMatchObject({ error: 'NOT_RUNNING', code: 1 });
    expect(await run({ cmd: 'send_input', args: ['cat-e2e', '%%'], opts: { encoding: 'base64' } })).toMatchObject({ error: 'BAD_ARGS' });
  });

  it('send_input to a program that never reads does not hold up later commands (kill still works)', async () => {
    wire.send(`conplyent/${HOST}/cmd`, { id: 'deaf-1', cmd: 'exec', args: ['sleep', '30'] });
    await wire.waitFor((m) => m.topic === `conplyent/${HOST}/job/deaf-1` && m.json.type === 'accepted');
    expect(await run({ cmd: 'send_input', args: ['deaf-1', 'x'.repeat(400_000)] })).toMatchObject({ code: 0, value: { flushed: false } });
    expect(await run({ cmd: 'ping' })).toMatchObject({ code: 0 });
    expect(await run({ cmd: 'kill', args: ['deaf-1'] })).toMatchObject({ code: 0 });
    await wire.waitFor((m) => m.topic === `conplyent/${HOST}/job/deaf-1` && m.json.type === 'result');
  });

  it('ping, os_info, user_name, replay answer; extra arguments are BAD_ARGS', async () => {
    expect(await run('id=p1 ping')).toMatchObject({ code: 0, value: { pong: true, host: HOST, ts: expect.any(Number) } });
    expect(await run('id=p2 ping extra')).toMatchObject({ error: 'BAD_ARGS' });
    expect(await run({ cmd: 'os_info' })).toMatchObject({ value: { platform: process.platform, nodeVersion: process.version, cpus: { count: expect.any(Number) } } });
    expect(await run({ cmd: 'user_name' })).toMatchObject({ value: userInfo().username });
    expect(await run('id=rp1 replay p1 0')).toMatchObject({ code: 0, value: { job: 'p1', from: 0, replayed: 2 } });
    expect(await run('id=rp2 replay p1 x')).toMatchObject({ error: 'BAD_ARGS' });
  });

  it('reboot and shutdown answer first, then call the injected power function (never the real one)', async () => {
    const r = await wire.run(HOST, { id: 'rb-1', cmd: 'reboot', opts: { delaySec: 0 } });
    expect(result(r)).toMatchObject({ code: 0, value: { action: 'reboot', delaySec: 0 } });
    expect(await waitFor(() => powerCalls.includes('reboot'))).toBe(true);
    expect(await run({ cmd: 'shutdown' })).toMatchObject({ value: { action: 'shutdown' } });
    expect(await waitFor(() => powerCalls.includes('shutdown'))).toBe(true);
    expect(await run({ cmd: 'reboot', opts: { delaySec: 'soon' } })).toMatchObject({ error: 'BAD_ARGS' });
  });

  it('close_server answers, kills running jobs, goes offline with reason close_server', async () => {
    const other = createAgent({ broker: broker.url, name: 'shell-closing', stateDir: join(dir, 'state-2'), keepaliveSec: 5 });
    await other.start();
    wire.send('conplyent/shell-closing/cmd', { id: 'victim', cmd: 'exec', args: ['sleep', '30'] });
    await wire.waitFor((m) => m.topic === 'conplyent/shell-closing/job/victim' && m.json.type === 'accepted');
    const r = result(await wire.run('shell-closing', { cmd: 'close_server' }));
    expect(r).toMatchObject({ code: 0, value: { closing: true } });
    const off = await wire.waitFor((m) => m.topic === 'conplyent/shell-closing/status' && m.json.online === false);
    expect(off.json.reason).toBe('close_server');
    const victim = result(wire.jobEvents('shell-closing', 'victim'));
    expect(victim.type === 'error' || victim.code === null).toBe(true);
    await other.stop();
    await sleep(0);
  });
});
