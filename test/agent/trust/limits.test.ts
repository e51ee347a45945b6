// What changes for an agent without a policy (today's users): nothing, except that rm refuses the
// system trees without force=true, and a default cap on running jobs answers BUSY (1,000
// `exec sleep 1000` from one stolen login must not all start). Also: policy reloads, and a policy
// that does not validate at start stops the agent with one line.
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { nanoid } from 'nanoid';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createAgent } from '../../../agent/index.js';
import { topics } from '../../../protocol/index.js';
import { brokerKinds } from '../../helpers/brokers.js';
import { auditOf, expectAuditedRefusal, marker, runJob, signed, trustFixture, writeJson } from './harness.js';

describe.each(brokerKinds())('an agent without a policy on %s', (kind) => {
  const f = trustFixture(kind, 'nopol-1', { agent: () => ({ trustedKeys: [], requireSigned: false, maxJobs: 2 }) });
  const unsigned = (cmd: Record<string, unknown>) => ({ id: nanoid(), ...cmd });

  it('runs unsigned commands as before', async () => {
    expect(await runJob(f, unsigned({ cmd: 'ping' }))).toMatchObject({ type: 'result', code: 0 });
  });

  it('rm of /etc without force is DENIED before anything is removed', async () => {
    // Not recursive: even unguarded this rmdir would only fail with ENOTEMPTY, so the probe is
    // harmless; DENIED (not PATH) proves the refusal came first.
    const env = unsigned({ cmd: 'rm', args: ['/etc'] });
    const end = await runJob(f, env);
    expect(end).toMatchObject({ type: 'error', error: 'DENIED' });
    expect(end.message).toMatch(/system directory.*force=true/);
    expect(existsSync('/etc/passwd')).toBe(true);
    expect(auditOf(f, env.id).map((r) => `${r.kind}:${r.code}`)).toContain('outcome:DENIED');
  });

  it('rm of a system tree reached through a symlinked parent is DENIED too', async () => {
    symlinkSync('/', join(f.dir, 'slash'));
    const end = await runJob(f, unsigned({ cmd: 'rm', args: [join(f.dir, 'slash', 'usr')] }));
    expect(end).toMatchObject({ type: 'error', error: 'DENIED' });
    expect(end.message).toMatch(/resolves to \/usr/);
  });

  it('rm of an ordinary directory still works', async () => {
    mkdirSync(join(f.dir, 'tree', 'sub'), { recursive: true });
    expect(await runJob(f, unsigned({ cmd: 'rm', args: [join(f.dir, 'tree')], opts: { recursive: true } }))).toMatchObject({ type: 'result' });
    expect(existsSync(join(f.dir, 'tree'))).toBe(false);
  });

  it('the default job cap: past maxJobs exec is BUSY; kill and jobs still answer', async () => {
    const sleeps = [unsigned({ cmd: 'exec', args: ['sleep', '30'] }), unsigned({ cmd: 'exec', args: ['sleep', '30'] })];
    for (const s of sleeps) {
      f.wire.send(topics.cmd(f.host), s);
      await f.wire.waitFor((x) => x.topic === topics.job(f.host, s.id) && x.json.type === 'accepted');
    }
    const m = marker(f);
    const busy = unsigned({ cmd: 'exec', args: ['touch', m] });
    const end = await runJob(f, busy);
    expect(end).toMatchObject({ type: 'error', error: 'BUSY' });
    expect(existsSync(m)).toBe(false);
    expectAuditedRefusal(f, busy.id, 'BUSY');
    expect(await runJob(f, unsigned({ cmd: 'jobs' }))).toMatchObject({ type: 'result' });
    for (const s of sleeps) expect(await runJob(f, unsigned({ cmd: 'kill', args: [s.id] }))).toMatchObject({ type: 'result' });
  });
});

describe.each(brokerKinds())('policy reload on %s', (kind) => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const policy = (f: { ops: { pub: string } }, extra: string[]) => ({ keys: { ops: f.ops.pub }, rules: [{ name: 'r', keys: ['ops'], commands: ['ping', ...extra] }] });
  const f = trustFixture(kind, 'reload-1', {
    prepare: (f) => writeJson(join(f.dir, 'policy.json'), policy(f, [])),
    agent: (f) => ({ policyFile: join(f.dir, 'policy.json'), logger: pino({ level: 'info' }, sink) }),
  });

  /** Sends user_name until it gets `want` (the reload is asynchronous: a watch event, then a debounce). */
  async function until(want: 'result' | 'error'): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const end = await runJob(f, signed(f, { cmd: 'user_name' }));
      if (end.type === want) return;
      if (Date.now() > deadline) throw new Error(`user_name still ends with ${end.type} (${end.message}) after 10 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('a valid edit takes effect without a restart', async () => {
    const first = await runJob(f, signed(f, { cmd: 'user_name' }));
    expect(first).toMatchObject({ type: 'error', error: 'DENIED' });
    writeJson(join(f.dir, 'policy.json'), policy(f, ['user_name']));
    await until('result');
  });

  it('an invalid edit keeps the old policy and logs why', async () => {
    writeFileSync(join(f.dir, 'policy.json'), '{"keys": {}, "rules": [ broken');
    const deadline = Date.now() + 10_000;
    while (!lines.some((l) => l.includes('policy reload failed')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const line = lines.find((l) => l.includes('policy reload failed'));
    expect(line).toMatch(/not valid JSON/);
    expect(await runJob(f, signed(f, { cmd: 'user_name' }))).toMatchObject({ type: 'result' });
  });
});

describe('a policy that does not validate at start', () => {
  it('fails start() with one line naming the file and the field', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'cp-badpol-'));
    writeJson(join(dir, 'p.json'), { keys: {}, rules: [{ name: 'x', keys: ['nobody'], commands: ['ping'] }] });
    const a = createAgent({ broker: 'mqtt://127.0.0.1:9', name: 'bad-1', stateDir: join(dir, 's'), policyFile: join(dir, 'p.json') });
    await expect(a.start()).rejects.toThrow(/^policy .*p\.json: rules\.0 \(x\)\.keys: "nobody" is not a key listed/);
    rmSync(dir, { recursive: true, force: true });
  });
});
