import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CommandInfoSchema } from '../../protocol/index.js';
import { powerCommands } from '../../agent/jobs/power.js';
import { makeShell } from './shell-harness.js';

const BUILTINS = ['audit', 'cd', 'close_server', 'cwd', 'exec', 'hash', 'is_alive', 'jobs', 'kill', 'ls', 'mkdir', 'os_info', 'ping', 'rdfile', 'reboot', 'replay', 'rm', 'send_input', 'shutdown', 'touch', 'user_name', 'wrfile'];

describe('registered shell', () => {
  it('announces every built-in with its kind, a usage hint and a one-line summary', () => {
    const list = makeShell(os.tmpdir()).registry.list();
    expect(list.map((c) => c.name).sort()).toEqual(BUILTINS);
    for (const c of list) {
      expect(CommandInfoSchema.parse(c)).toEqual(c);
      // Commands without arguments have an empty usage, which presence leaves out.
      if (!['close_server', 'cwd', 'jobs', 'os_info', 'ping', 'user_name'].includes(c.name)) expect(c.usage).toMatch(/\S/);
      expect(c.summary!.length).toBeGreaterThan(10);
      expect(c.summary).not.toContain('\n');
    }
    expect(list.filter((c) => c.kind === 'background').map((c) => c.name).sort()).toEqual(['exec', 'rdfile']);
  });
});

describe('system commands', () => {
  const sh = makeShell(os.tmpdir());

  it('ping answers pong with host and time', async () => {
    const r = await sh.run('ping');
    expect(r).toMatchObject({ ok: true, code: 0, value: { pong: true, host: 'test-host', ts: expect.any(Number) } });
  });

  it('os_info reports the host facts', async () => {
    const r = await sh.run('os_info');
    expect(r).toMatchObject({
      ok: true,
      value: {
        os: os.type(),
        platform: process.platform,
        release: os.release(),
        arch: os.arch(),
        hostname: os.hostname(),
        cpus: { count: expect.any(Number), model: expect.any(String) },
        totalmem: os.totalmem(),
        freemem: expect.any(Number),
        uptime: expect.any(Number),
        loadavg: expect.any(Array),
        nodeVersion: process.version,
      },
    });
  });

  it('user_name returns the user the agent runs as', async () => {
    expect(await sh.run('user_name')).toMatchObject({ ok: true, value: os.userInfo().username });
  });

  it('commands without arguments refuse extra arguments with BAD_ARGS', async () => {
    expect(await sh.run('ping', ['x'])).toMatchObject({ ok: false, error: 'BAD_ARGS', code: -1 });
    expect(await sh.run('cwd', [], { x: 1 })).toMatchObject({ ok: false, error: 'BAD_ARGS' });
  });

  it('reboot and shutdown answer first and call the injected power function only after the handler returned', async () => {
    const s = makeShell(os.tmpdir());
    const r = await s.runText('reboot delaySec=5');
    expect(r).toMatchObject({ ok: true, value: { action: 'reboot', delaySec: 5 } });
    expect(s.state.power).toEqual([]);
    await new Promise((res) => setImmediate(res));
    expect(s.state.power).toEqual([['reboot', 5]]);
    expect(await s.run('shutdown')).toMatchObject({ value: { action: 'shutdown', delaySec: 0 } });
    await new Promise((res) => setImmediate(res));
    expect(s.state.power).toEqual([['reboot', 5], ['shutdown', 0]]);
    expect(await s.run('reboot', [], { delaySec: -1 })).toMatchObject({ ok: false, error: 'BAD_ARGS' });
  });

  it('close_server asks the agent to close and says so', async () => {
    const s = makeShell(os.tmpdir());
    expect(await s.run('close_server')).toMatchObject({ ok: true, value: { closing: true } });
    expect(s.state.closed).toBe(1);
  });
});

describe('job commands', () => {
  it('jobs lists the job table; is_alive tells running from done; unknown ids are UNKNOWN_JOB', async () => {
    const sh = makeShell(os.tmpdir());
    const job = sh.start('exec', ['sleep', '100']);
    expect(await sh.run('is_alive', [job.id])).toMatchObject({ ok: true, value: { job: job.id, alive: true } });
    const listed = await sh.run('jobs');
    expect(listed).toMatchObject({ ok: true, value: expect.arrayContaining([expect.objectContaining({ id: job.id, cmd: 'exec', state: 'running' })]) });
    await sh.run('kill', [job.id], { signal: 'SIGKILL' });
    await job.done;
    expect(await sh.run('is_alive', [job.id])).toMatchObject({ value: { alive: false } });
    expect(await sh.run('is_alive', ['nope'])).toMatchObject({ ok: false, error: 'UNKNOWN_JOB', code: -1 });
    expect(await sh.run('kill', ['nope'])).toMatchObject({ ok: false, error: 'UNKNOWN_JOB' });
    expect(await sh.run('kill', [job.id])).toMatchObject({ ok: false, error: 'NOT_RUNNING', code: 1 });
    expect(await sh.run('send_input', ['nope', 'x'])).toMatchObject({ ok: false, error: 'UNKNOWN_JOB' });
  });

  it('jobs shortens long arguments with a visible marker so the listing stays small', async () => {
    const sh = makeShell(os.tmpdir());
    const big = 'A'.repeat(100_000);
    await sh.start('wrfile', [path.join(os.tmpdir(), `cp-jobs-${process.pid}`), big]).done;
    await fs.rm(path.join(os.tmpdir(), `cp-jobs-${process.pid}`), { force: true });
    const r = (await sh.run('jobs')) as { value: Array<{ args: string[] }> };
    expect(r.value[0].args[1]).toMatch(/^A{100}…\(100000 chars\)$/);
    expect(JSON.stringify(r.value).length).toBeLessThan(1_000);
  });

  it('kill refuses a signal name this OS does not have', async () => {
    const sh = makeShell(os.tmpdir());
    expect(await sh.run('kill', ['j1'], { signal: 'SIGNOPE' })).toMatchObject({ ok: false, error: 'BAD_ARGS', message: expect.stringContaining('signal') });
  });

  it('send_input refuses bad base64', async () => {
    const sh = makeShell(os.tmpdir());
    expect(await sh.run('send_input', ['j1', '%%%'], { encoding: 'base64' })).toMatchObject({ ok: false, error: 'BAD_ARGS' });
  });

  it('replay passes the job and sequence number through and reports the count', async () => {
    const sh = makeShell(os.tmpdir());
    const job = sh.start('ping');
    await job.done;
    expect(await sh.runText(`replay ${job.id} 3`)).toEqual({ ok: true, code: 0, value: { job: job.id, from: 3, replayed: 7, firstAvailable: 0 } });
    expect(await sh.run('replay', [job.id])).toMatchObject({ value: { from: 0 } });
    expect(sh.state.replays).toEqual([[job.id, 3], [job.id, 0]]);
    expect(await sh.run('replay', [job.id, 'x'])).toMatchObject({ ok: false, error: 'BAD_ARGS' });
    expect(await sh.run('replay', ['nope', 0])).toMatchObject({ ok: false, error: 'UNKNOWN_JOB' });
  });
});

describe('power', () => {
  it('maps each action to the platform command, so the real call is known without making it', () => {
    expect(powerCommands('reboot', 'win32')).toEqual([['shutdown', ['/r', '/t', '0']]]);
    expect(powerCommands('shutdown', 'win32')).toEqual([['shutdown', ['/s', '/t', '0']]]);
    expect(powerCommands('reboot', 'linux')[0]).toEqual(['systemctl', ['reboot']]);
    expect(powerCommands('shutdown', 'linux')).toContainEqual(['shutdown', ['-h', 'now']]);
    expect(powerCommands('reboot', 'darwin')).toEqual([['shutdown', ['-r', 'now']]]);
  });
});
