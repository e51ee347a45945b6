// The human renderings of the CLI, as an operator reads them: whole text, stable (no colors, no
// timings), so that any change to what people see is a visible diff in review. The machine format
// (--json) is specified elsewhere (render.test.ts, docs/controller.md) and is not touched here.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { JobEvent } from '../../protocol/index.js';
import type { HostInfo } from '../../controller/presence.js';
import { JobHandle } from '../../controller/job.js';
import { hostTable } from '../../cli/controller/hosts.js';
import { makeOutput } from '../../cli/controller/output.js';
import { JobRenderer, type RenderOptions } from '../../cli/controller/render-job.js';
import { renderValue } from '../../cli/controller/render-value.js';
import { styler } from '../../cli/controller/style.js';
import { transferFailure } from '../../cli/controller/transfer-progress.js';
import { capture, quietOwner } from '../helpers/capture.js';

const JOB = 'V1StGXR8_Z5jdHi6B-myT';
const base = { v: 1 as const, job: JOB, ts: 0 };
const accepted = (host: string, cmd = 'exec'): JobEvent => ({ ...base, host, seq: 0, type: 'accepted', cmd, args: [], kind: 'background', boot: 1 });
const out = (host: string, seq: number, data: string, stream: 'stdout' | 'stderr' = 'stdout'): JobEvent => ({ ...base, host, seq, type: 'output', stream, data });
const result = (host: string, seq: number, r: Partial<Extract<JobEvent, { type: 'result' }>> = {}): JobEvent => ({ ...base, host, seq, type: 'result', code: 0, durationMs: 1, events: seq - 1, ...r });
const error = (host: string, seq: number, error: 'PATH' | 'UNKNOWN_JOB' | 'NOT_RUNNING', message: string): JobEvent => ({ ...base, host, seq, type: 'error', code: -1, error, message });

interface Scenario {
  cmd?: string;
  expected: string[];
  offline?: string[];
  /** Each host's events in order; hosts without an entry never answer. */
  events: Record<string, JobEvent[]>;
  render?: RenderOptions;
}

/** Drives a real JobHandle with wire events and returns what the renderer wrote, colors off. */
async function render(s: Scenario): Promise<{ stdout: string; stderr: string; exit: number }> {
  const c = capture();
  const job = new JobHandle(quietOwner, { id: JOB, cmd: s.cmd ?? 'exec', expected: s.expected, offline: s.offline ?? [], unknown: [], noMatch: false, waitMs: 150, replayGraceMs: 1 });
  const r = new JobRenderer(makeOutput(false, c.out, c.err), job, { limits: { waitMs: 30_000, killAfterMs: 600_000, ttlMs: 35_000 }, ...s.render });
  const following = r.follow();
  job.begin();
  for (const [host, evs] of Object.entries(s.events)) for (const ev of evs) job.onEvent(host, ev);
  const { exit } = await following;
  return { ...c.text(), exit };
}

const mixed: Scenario = {
  expected: ['web-1', 'web-2', 'web-3', 'web-4', 'web-5', 'db-1', 'db-2'],
  offline: ['db-2'],
  events: {
    'web-1': [accepted('web-1'), out('web-1', 1, 'Linux 6.1.0\n'), result('web-1', 2)],
    'web-2': [accepted('web-2'), out('web-2', 1, 'Linux 6.1.0\n'), result('web-2', 2)],
    'web-3': [accepted('web-3'), out('web-3', 1, 'Linux 5.10.0\n'), out('web-3', 2, 'disk almost full\n', 'stderr'), result('web-3', 3, { code: 7 })],
    'web-4': [accepted('web-4'), result('web-4', 1, { code: null, signal: 'SIGTERM', timedOut: true })],
    'web-5': [accepted('web-5'), out('web-5', 1, 'still going\n')],
    'db-1': [],
  },
};

describe('what an operator reads', () => {
  it('exec on a mixed fleet: host-prefixed lines, one state line per host that did not succeed, a summary by outcome with what to do next', async () => {
    const r = await render(mixed);
    expect(r.exit).toBe(3);
    expect(r.stdout).toMatchInlineSnapshot(`
      "web-1: Linux 6.1.0
      web-2: Linux 6.1.0
      web-3: Linux 5.10.0
      web-5: still going
      "
    `);
    expect(r.stderr).toMatchInlineSnapshot(`
      "db-2: OFFLINE not run
      web-3: disk almost full
      web-3: FAILED exit 7
      web-4: FAILED killed after --kill-after 600 s
      web-5: RUNNING after --timeout 30 s (the job goes on)
      db-1: NO-ANSWER within --timeout 30 s
      7 hosts: 2 ok; 1 offline not run (db-2); 1 failed exit 7 (web-3); 1 failed killed after --kill-after 600 s (web-4); 1 running after --timeout 30 s (web-5); 1 no-answer within --timeout 30 s (db-1)
      still running on web-5 after --timeout 30 s; the job goes on there.
        follow: conplyent attach web-5 V1StGXR8_Z5jdHi6B-myT
        stop:   conplyent kill web-5 V1StGXR8_Z5jdHi6B-myT
        (--timeout N waits longer; --kill-after N has the agent end the job after N s)
      offline: db-2; not run (a copy delivered later answers EXPIRED). --queue runs it when they return
      "
    `);
  });

  it('--fold: each distinct output once under a compact host list; the summary groups the states held back', async () => {
    const r = await render({ ...mixed, render: { fold: true } });
    expect(r.stdout).toMatchInlineSnapshot(`
      "----------------
      web-[1-2]
      ----------------
      Linux 6.1.0
      ----------------
      web-3
      ----------------
      Linux 5.10.0
      disk almost full
      ----------------
      web-5
      ----------------
      still going
      "
    `);
    // The same summary and hints as without --fold; only the per-host state lines are held back.
    expect(r.stderr).toBe((await render(mixed)).stderr.replace(/^[a-z]+-\d: .*\n/gm, ''));
  });

  it('--sort: every host in name order, pdsh style', async () => {
    const r = await render({ ...mixed, render: { sort: true } });
    expect(r.stdout).toMatchInlineSnapshot(`
      "web-1: Linux 6.1.0
      web-2: Linux 6.1.0
      web-3: Linux 5.10.0
      web-3: disk almost full
      web-5: still going
      "
    `);
  });

  it('a stale host: the command was sent and may run there unobserved, said so instead of "not run"', async () => {
    const r = await render({ expected: ['web-1', 'db-2'], offline: ['db-2'], events: { 'web-1': [accepted('web-1'), result('web-1', 1)] }, render: { stale: ['db-2'] } });
    expect(r.exit).toBe(3);
    expect(r.stderr).toMatchInlineSnapshot(`
      "db-2: OFFLINE stale: sent, it may run there unobserved
      2 hosts: 1 ok; 1 offline stale: sent, it may run there unobserved (db-2)
      stale: no heartbeat from db-2 for 3 intervals (a broker node down?); conplyent hosts shows when each was last heard
      "
    `);
  });

  it('expired and lost: the state is not repeated as a code', async () => {
    const r = await render({
      expected: ['web-1', 'web-2'],
      events: {
        'web-1': [{ ...base, host: 'web-1', seq: 0, type: 'error', code: -1, error: 'EXPIRED', message: 'command older than its TTL (35000 ms); not run' }],
        'web-2': [accepted('web-2'), { ...base, host: 'web-2', seq: 1, type: 'lost', code: 1, message: 'the agent restarted while the job ran; it was not run again' }],
      },
    });
    expect(r.stderr).toMatchInlineSnapshot(`
      "web-1: EXPIRED command older than its TTL (35000 ms); not run
      web-2: LOST the agent restarted while the job ran; it was not run again
      2 hosts: 0 ok; 1 expired (web-1); 1 lost (web-2)
      "
    `);
  });

  it('one host: its own state line, no count', async () => {
    const r = await render({ cmd: 'ls', expected: ['web-1'], events: { 'web-1': [accepted('web-1', 'ls'), error('web-1', 1, 'PATH', '/nope: no such file or directory (ENOENT)')] } });
    expect(r.exit).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatchInlineSnapshot(`
      "web-1: ERROR PATH: /nope: no such file or directory (ENOENT)
      "
    `);
  });

  it('kill across a target: sentences, a job that had ended, hosts that never had it named once', async () => {
    const kill = (h: string) => [accepted(h, 'kill'), result(h, 1, { value: { job: 'J1', signal: 'SIGTERM' } })];
    const r = await render({
      cmd: 'kill',
      expected: ['web-1', 'web-2', 'web-3', 'db-1'],
      events: { 'web-1': kill('web-1'), 'web-2': [accepted('web-2', 'kill'), error('web-2', 1, 'NOT_RUNNING', 'job J1 has already ended (exit code 0)')], 'web-3': [error('web-3', 0, 'UNKNOWN_JOB', 'no job J1 on web-3')], 'db-1': [error('db-1', 0, 'UNKNOWN_JOB', 'no job J1 on db-1')] },
      render: { control: { verb: 'kill', job: 'J1' } },
    });
    expect(r.exit).toBe(0);
    expect(r.stdout).toMatchInlineSnapshot(`
      "web-1: sent SIGTERM to job J1
      web-2: job J1 has already ended (exit code 0)
      "
    `);
    expect(r.stderr).toMatchInlineSnapshot(`
      "2 hosts: 1 ok; 1 had already ended (web-2)
      no job J1 on db-1,web-3
      "
    `);
  });

  it('attach where no selected host has the job: one line saying so, exit 4', async () => {
    const r = await render({ expected: ['web-1', 'web-2'], events: { 'web-1': [error('web-1', 0, 'UNKNOWN_JOB', 'x')], 'web-2': [error('web-2', 0, 'UNKNOWN_JOB', 'x')] }, render: { control: { verb: 'attach', job: JOB } } });
    expect(r.exit).toBe(4);
    expect(r.stderr).toMatchInlineSnapshot(`
      "no job V1StGXR8_Z5jdHi6B-myT on web-[1-2]: never started there, or ended longer ago than agents keep a job (10 min by default); conplyent jobs 'web-[1-2]' lists theirs
      "
    `);
  });

  it('jobs: one table for every host, HOST first, hosts in name order', async () => {
    const now = Date.now();
    const jobs = (h: string, n: number) => [
      accepted(h, 'jobs'),
      result(h, 1, {
        value: [
          { id: `job-${n}a`, cmd: 'exec', args: ['sleep', '300'], state: 'running', startedAt: now - 125_000, pid: 4000 + n },
          { id: `job-${n}b`, cmd: 'ls', args: ['/var/log'], state: 'done', startedAt: now - 7_200_000, code: 0 },
          { id: JOB, cmd: 'jobs', args: [], state: 'running', startedAt: now },
        ],
      }),
    ];
    const r = await render({ cmd: 'jobs', expected: ['web-10', 'web-2'], events: { 'web-10': jobs('web-10', 10), 'web-2': jobs('web-2', 2) }, render: { rows: { header: ['JOB', 'STATE', 'STARTED', 'PID', 'CODE', 'COMMAND'], of: (v, self) => (v as { id: string; cmd: string; args: string[]; state: string; startedAt: number; pid?: number; code?: number }[]).filter((j) => j.id !== self).map((j) => [j.id, j.state, `${Math.round((now - j.startedAt) / 60_000)}m ago`, String(j.pid ?? '-'), j.code === undefined ? '-' : `exit ${j.code}`, [j.cmd, ...j.args].join(' ')]), empty: '(no jobs)' } } });
    expect(r.stdout).toMatchInlineSnapshot(`
      "HOST    JOB      STATE    STARTED   PID   CODE    COMMAND
      web-2   job-2a   running  2m ago    4002  -       exec sleep 300
      web-2   job-2b   done     120m ago  -     exit 0  ls /var/log
      web-10  job-10a  running  2m ago    4010  -       exec sleep 300
      web-10  job-10b  done     120m ago  -     exit 0  ls /var/log
      "
    `);
  });

  it('built-in values: listings, aligned key/value lines, one sentence for what a command did', () => {
    const v = (cmd: string, value: unknown) => renderValue(cmd, value);
    expect(v('ls', { path: '/srv', dirs: ['app', 'logs'], files: ['README'], links: ['current'], others: ['sock'] })).toMatchInlineSnapshot(`
      "app/
      current@
      logs/
      README
      sock?"
    `);
    expect(v('ls', { path: '/empty', dirs: [], files: [] })).toMatchInlineSnapshot(`"(empty: /empty)"`);
    expect(v('hash', { path: '/etc/hostname', size: 3_500_000, sha256: 'ab'.repeat(32) })).toMatchInlineSnapshot(`
      "path:    /etc/hostname
      size:    3.3 MiB
      sha256:  abababababababababababababababababababababababababababababababab"
    `);
    expect(
      v('os_info', { os: 'Linux', release: '6.1.0', platform: 'linux', arch: 'x64', hostname: 'web-1', cpus: { count: 4, model: 'AMD EPYC' }, freemem: 2 * 1024 ** 3, totalmem: 8 * 1024 ** 3, uptime: 93_784, loadavg: [0.5, 0.25, 0.125], nodeVersion: 'v20.20.2' }),
    ).toMatchInlineSnapshot(`
      "os:        Linux 6.1.0 (linux, x64)
      hostname:  web-1
      cpus:      4 × AMD EPYC
      memory:    2.0 GiB free of 8.0 GiB
      uptime:    1d 2h 3m
      load:      0.50 0.25 0.13
      node:      v20.20.2"
    `);
    expect(v('rdfile', { path: '/etc/motd', size: 2048, bytes: 2048, sha256: 'cd'.repeat(32) })).toMatchInlineSnapshot(`"/etc/motd: 2.0 KiB, sha256 cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"`);
    expect(v('rdfile', { path: '/var/log/syslog', size: 10_485_760, bytes: 4096, sha256: 'ef'.repeat(32) })).toMatchInlineSnapshot(`"/var/log/syslog: 4.0 KiB of 10.0 MiB, sha256 efefefefefefefefefefefefefefefefefefefefefefefefefefefefefefefef"`);
    expect(v('wrfile', { path: '/tmp/notes', bytes: 6, size: 120 })).toMatchInlineSnapshot(`"wrote 6 B to /tmp/notes (now 120 B)"`);
    expect(v('touch', { path: '/tmp/a', created: true })).toMatchInlineSnapshot(`"created /tmp/a"`);
    expect(v('touch', { path: '/tmp/a', created: false })).toMatchInlineSnapshot(`"updated the times of /tmp/a"`);
    expect(v('rm', { path: '/tmp/a', removed: true })).toMatchInlineSnapshot(`"removed /tmp/a"`);
    expect(v('rm', { path: '/tmp/a', removed: false })).toMatchInlineSnapshot(`"/tmp/a was not there"`);
    expect(v('kill', { job: 'J1', signal: 'SIGTERM' })).toMatchInlineSnapshot(`"sent SIGTERM to job J1"`);
    expect(v('is_alive', { job: 'J1', alive: true })).toMatchInlineSnapshot(`"job J1 is running"`);
    expect(v('send_input', { job: 'J1', bytes: 1, ended: true, flushed: true })).toMatchInlineSnapshot(`"wrote 1 byte to job J1 and closed its stdin"`);
    expect(v('send_input', { job: 'J1', bytes: 6, ended: false, flushed: false })).toMatchInlineSnapshot(`"wrote 6 bytes to job J1 (the program has not read it yet)"`);
    expect(v('reboot', { action: 'reboot', delaySec: 5 })).toMatchInlineSnapshot(`"reboot in 5 s"`);
    // A custom command's value: JSON, compact while short.
    expect(v('greet', { hello: 'world' })).toMatchInlineSnapshot(`"{"hello":"world"}"`);
  });

  it('put and get: a wait that ran out names --timeout and what it bounds; other failures what the host said', () => {
    const s = styler(false);
    expect(transferFailure(s, { host: 'web-1', state: 'no-answer' }, 60_000, 'per chunk')).toMatchInlineSnapshot(`"web-1: NO-ANSWER after --timeout 60 s (per chunk)"`);
    expect(transferFailure(s, { host: 'web-1', state: 'running' }, 1_500, 'for the whole file')).toMatchInlineSnapshot(`"web-1: RUNNING after --timeout 1.5 s (for the whole file)"`);
    expect(transferFailure(s, { host: 'web-1', state: 'error', error: '/nope: no such file or directory (ENOENT)' }, 60_000, 'for the whole file')).toMatchInlineSnapshot(`"web-1: ERROR /nope: no such file or directory (ENOENT)"`);
  });

  it('hosts: online, offline with its reason, stale, a changed key', () => {
    const now = 1_800_000_000_000;
    const facts = { os: 'Linux', platform: 'linux', release: '6.1.0', arch: 'x64', hostname: 'h', agentVersion: '0.1.0', nodeVersion: 'v20' };
    const host = (name: string, h: Partial<HostInfo>): HostInfo => ({ name, online: true, since: now - 3_600_000, lastSeen: now, labels: {}, commands: [], boot: 1, conn: 1, heardAt: now - 10_000, stale: false, facts, ...h });
    const list = [
      host('web-1', { labels: { role: 'web', env: 'prod' }, keyId: 'QR85ItbJYgM-5W0j', requireSigned: true }),
      host('web-2', { online: false, since: now - 300_000, lastSeen: now - 300_000, reason: 'shutdown', labels: { role: 'web' } }),
      host('db-1', { stale: true, heardAt: now - 400_000, labels: { role: 'db' } }),
      host('db-2', { keyId: 'QR85ItbJYgM-5W0j', keyChanged: { pinnedKeyId: 'QR85ItbJYgM-5W0j', announcedKeyId: 'zzzzzzzzzzzzzzzz' } }),
      host('lab-1', { online: false, since: null, lastSeen: null, reason: 'will', facts: undefined }),
    ];
    expect(hostTable(makeOutput(false, new PassThrough(), new PassThrough()), list, now)).toMatchInlineSnapshot(`
      "NAME   STATE    SINCE                                  LABELS             OS               SIGNED    KEY
      web-1  online   up 1h                                  role=web,env=prod  Linux 6.1.0 x64  required  QR85ItbJYgM-5W0j
      web-2  offline  down 5m (agent stopped)                role=web           Linux 6.1.0 x64  -         -
      db-1   stale    up 1h, last heard 6m ago               role=db            Linux 6.1.0 x64  -         -
      db-2   online   up 1h                                  -                  Linux 6.1.0 x64  -         CHANGED QR85ItbJYgM-5W0j -> zzzzzzzzzzzzzzzz
      lab-1  offline  down, since unknown (connection lost)  -                  -                -         -
      "
    `);
  });
});
