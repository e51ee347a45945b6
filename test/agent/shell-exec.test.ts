import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeShell, pidAlive, waitFor, type Started } from './shell-harness.js';

const root = await fs.mkdtemp(path.join(os.tmpdir(), 'cp-shell-exec-'));
const node = process.execPath;
const leftovers: number[] = [];
afterAll(async () => {
  for (const pid of leftovers) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  await fs.rm(root, { recursive: true, force: true });
});

const sh = makeShell(root);
const exec = (args: unknown[], opts: Record<string, unknown> = {}) => sh.start('exec', args, opts);
const lines = (job: Started) => waitFor(() => job.stdout().includes('\n'));

describe('exec', () => {
  it('runs a program in argv form: arguments reach it verbatim, no shell expansion', async () => {
    const job = exec(['printf', '%s|', 'a b', '$HOME', '*', '; echo hacked']);
    expect(await job.done).toEqual({ ok: true, code: 0, signal: null, timedOut: false, killed: false });
    expect(job.stdout()).toBe('a b|$HOME|*|; echo hacked|');
  });

  it('streams stdout and stderr separately and reports the exit code', async () => {
    const job = exec([node, '-e', 'process.stdout.write("out"); process.stderr.write("err"); process.exitCode = 3']);
    expect(await job.done).toMatchObject({ ok: true, code: 3, signal: null });
    expect(job.stdout()).toBe('out');
    expect(job.stderr()).toBe('err');
  });

  it('shell=true runs the joined command line through the system shell', async () => {
    const job = exec(['echo', 'hi there', '|', 'tr', 'a-z', 'A-Z'], { shell: 'true' });
    expect(await job.done).toMatchObject({ ok: true, code: 0 });
    expect(job.stdout()).toBe('HI THERE\n');
  });

  it('runs in the job cwd and passes env', async () => {
    const job = sh.start('exec', [node, '-e', 'console.log(process.cwd(), process.env.CP_TEST)'], { env: { CP_TEST: 42 } }, { cwd: os.tmpdir() });
    expect(await job.done).toMatchObject({ code: 0 });
    expect(job.stdout()).toBe(`${await fs.realpath(os.tmpdir())} 42\n`);
  });

  it('passes binary output through byte for byte', async () => {
    const job = exec([node, '-e', 'process.stdout.write(Buffer.from(Array.from({length: 256}, (_, i) => i)))']);
    await job.done;
    expect(Buffer.concat(job.out.map((c) => c.data)).equals(Buffer.from(Array.from({ length: 256 }, (_, i) => i)))).toBe(true);
  });

  it('a program that cannot start is a SPAWN error; a missing cwd a PATH error; no program BAD_ARGS', async () => {
    expect(await exec(['no-such-program-cp']).done).toMatchObject({ ok: false, error: 'SPAWN', code: 1, message: expect.stringContaining('no-such-program-cp') });
    const noexec = path.join(root, 'not-exec.sh');
    await fs.writeFile(noexec, '#!/bin/sh\necho hi\n', { mode: 0o644 });
    expect(await exec([noexec]).done).toMatchObject({ ok: false, error: 'SPAWN', message: expect.stringContaining('EACCES') });
    expect(await sh.start('exec', ['true'], {}, { cwd: path.join(root, 'gone') }).done).toMatchObject({ ok: false, error: 'PATH' });
    expect(await exec([]).done).toMatchObject({ ok: false, error: 'BAD_ARGS', message: expect.stringContaining('program is required') });
    expect(await exec(['true'], { shel: true }).done).toMatchObject({ ok: false, error: 'BAD_ARGS' });
  });

  it('keeps stdin open for send_input; end=true closes it', async () => {
    const job = exec(['cat']);
    expect(await sh.run('send_input', [job.id, 'hello'], { newline: true })).toMatchObject({ ok: true, value: { job: job.id, bytes: 6, ended: false, flushed: true } });
    expect(await waitFor(() => job.stdout() === 'hello\n')).toBe(true);
    const b64 = Buffer.from([0, 255, 10]).toString('base64');
    expect(await sh.run('send_input', [job.id, b64], { encoding: 'base64', end: true })).toMatchObject({ ok: true, value: { ended: true } });
    expect(await job.done).toMatchObject({ code: 0 });
    expect(Buffer.concat(job.out.map((c) => c.data)).equals(Buffer.from('hello\n\x00\xff\n', 'latin1'))).toBe(true);
  });

  it('send_input to a job that has ended is NOT_RUNNING, and the agent survives a write to a closed stdin', async () => {
    const job = exec(['true']);
    await job.done;
    expect(await sh.run('send_input', [job.id, 'x'])).toMatchObject({ ok: false, error: 'NOT_RUNNING' });
    // A program that exits without reading stdin while input is being written to it.
    const quick = exec([node, '-e', 'setTimeout(() => {}, 50)']);
    await Promise.allSettled(Array.from({ length: 5 }, () => sh.run('send_input', [quick.id, 'x'.repeat(100_000)])));
    expect(await quick.done).toMatchObject({ ok: true, code: 0 });
  });

  it('send_input to a program that never reads answers flushed=false instead of hanging', async () => {
    const job = exec(['sleep', '30']);
    const r = await sh.run('send_input', [job.id, 'x'.repeat(400_000)]);
    expect(r).toMatchObject({ ok: true, value: { job: job.id, bytes: 400_000, flushed: false } });
    await sh.run('kill', [job.id]);
    expect(await job.done).toMatchObject({ killed: true });
  });

  it('kill ends the whole process tree: the shell and its background child both die', async () => {
    const job = exec(['sh', '-c', 'sleep 100 & echo $$ $!; sleep 100']);
    expect(await lines(job)).toBe(true);
    const pids = job.stdout().trim().split(' ').map(Number);
    leftovers.push(...pids);
    expect(pids.every(pidAlive)).toBe(true);
    expect(await sh.run('kill', [job.id])).toMatchObject({ ok: true, value: { job: job.id, signal: 'SIGTERM' } });
    expect(await job.done).toMatchObject({ ok: true, code: null, signal: 'SIGTERM', killed: true, timedOut: false });
    expect(await waitFor(() => !pids.some(pidAlive))).toBe(true);
  });

  it('kill with signal=INT sends that signal', async () => {
    const job = exec([node, '-e', 'console.log("ready"); setInterval(() => {}, 1000)']);
    expect(await lines(job)).toBe(true);
    expect(await sh.runText(`kill ${job.id} signal=int`)).toMatchObject({ ok: true, value: { signal: 'SIGINT' } });
    expect(await job.done).toMatchObject({ code: null, signal: 'SIGINT', killed: true });
  });

  it('a tree that ignores the signal gets SIGKILL after the grace period', async () => {
    const job = exec([node, '-e', 'process.on("SIGTERM", () => {}); console.log("ready"); setInterval(() => {}, 1000)']);
    expect(await lines(job)).toBe(true);
    job.abort({ kind: 'kill' });
    expect(await job.done).toMatchObject({ code: null, signal: 'SIGKILL', killed: true });
  });

  it('a killed job ends even when a process that left the group keeps its output pipe open', async () => {
    // setsid puts the sleep in its own session: out of reach of the group kill, holding stdout.
    const job = exec(['sh', '-c', 'setsid sleep 30 & echo $!; sleep 30']);
    expect(await lines(job)).toBe(true);
    const escaped = Number(job.stdout().trim());
    leftovers.push(escaped);
    job.abort({ kind: 'kill' });
    expect(await job.done).toMatchObject({ ok: true, code: null, signal: 'SIGTERM', killed: true });
  });

  it('an abort for timeout is reported as timedOut, not killed', async () => {
    const job = exec(['sleep', '100']);
    await waitFor(() => sh.state.stdins.has(job.id));
    job.abort({ kind: 'timeout' });
    expect(await job.done).toMatchObject({ code: null, signal: 'SIGTERM', timedOut: true, killed: false });
  });

  it('holds the program back while output is not delivered (backpressure), then delivers every byte in order', async () => {
    const progress = path.join(root, 'progress');
    const total = 16 * 1024 * 1024;
    const script = `const fs = require('fs'); const b = Buffer.alloc(65536);
      let n = 0; while (n < ${total}) { for (let i = 0; i < b.length; i += 4) b.writeUInt32BE((n + i) / 4, i); fs.writeSync(1, b); n += b.length; fs.writeFileSync(${JSON.stringify(progress)}, String(n)); }`;
    let held = true;
    const waiters: Array<() => void> = [];
    const job = sh.start('exec', [node, '-e', script], {}, { write: () => (held ? new Promise<void>((r) => waiters.push(r)) : Promise.resolve()) });
    expect(await waitFor(() => job.out.length >= 1)).toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    const written = Number(await fs.readFile(progress, 'utf8').catch(() => '0'));
    expect(written).toBeLessThan(total / 4);
    held = false;
    for (const w of waiters.splice(0)) w();
    expect(await job.done).toMatchObject({ code: 0 });
    const all = Buffer.concat(job.out.map((c) => c.data));
    expect(all.length).toBe(total);
    for (let i = 0; i < total; i += 1_048_576) expect(all.readUInt32BE(i)).toBe(i / 4);
  });
});
