// Exploit replays against signature checking [cp-sig-4] [cp-sig-5] [cp-sig-6]: an attacker who can
// publish on the broker (one controller login) but holds no trusted key. Each forged command would
// create a marker file; none may exist afterwards, and each refusal must be in the audit log.
import { existsSync } from 'node:fs';
import { nanoid } from 'nanoid';
import { describe, expect, it } from 'vitest';
import { parsePublicKey, signCommand, topics, verifyEvent, type Presence } from '../../../protocol/index.js';
import { brokerKinds } from '../../helpers/brokers.js';
import { expectAuditedRefusal, expectNoJobEvents, marker, refusedNotice, runJob, signed, trustFixture } from './harness.js';

describe.each(brokerKinds())('signed commands on %s', (kind) => {
  const f = trustFixture(kind, 'sig-1');

  /** Sends a forgery and checks the whole promise: notice with the code, no job events, no marker, audited. */
  async function forged(env: Record<string, any> | string, id: string, code: string, m: string, topic = topics.cmd(f.host)) {
    const n = await refusedNotice(f, env, id, topic);
    expect(n.error).toBe(code);
    expect(existsSync(m)).toBe(false);
    expectNoJobEvents(f, id);
    expectAuditedRefusal(f, id, code);
    return n;
  }

  it('a genuine signed command runs (the control case)', async () => {
    const m = marker(f);
    const end = await runJob(f, signed(f, { cmd: 'exec', args: ['touch', m] }));
    expect(end).toMatchObject({ type: 'result', code: 0 });
    expect(existsSync(m)).toBe(true);
  });

  it('[cp-sig-5] an unsigned command is UNSIGNED on the errors topic and never runs', async () => {
    const m = marker(f);
    const id = nanoid();
    await forged({ id, cmd: 'exec', args: ['touch', m] }, id, 'UNSIGNED', m);
  });

  it('[cp-sig-5] a text command (which cannot carry sig) is UNSIGNED', async () => {
    const m = marker(f);
    const id = nanoid();
    await forged(`exec touch ${m} id=${id}`, id, 'UNSIGNED', m);
  });

  it('[cp-sig-5] a command signed by a key the agent does not trust is UNKNOWN_KEY', async () => {
    const m = marker(f);
    const env = signed(f, { cmd: 'exec', args: ['touch', m] }, f.stranger.privateKey);
    await forged(env, env.id, 'UNKNOWN_KEY', m);
  });

  it('[cp-sig-5] a stranger\'s signature under a trusted kid is BAD_SIGNATURE', async () => {
    const m = marker(f);
    const env = signed(f, { cmd: 'exec', args: ['touch', m] }, f.stranger.privateKey);
    const real = signed(f, { cmd: 'ping' });
    await forged({ ...env, sig: { kid: real.sig.kid, value: env.sig.value } }, env.id, 'BAD_SIGNATURE', m);
  });

  const tamper: [string, (env: Record<string, any>, m: string) => Record<string, any>][] = [
    ['args', (env, m) => ({ ...env, args: ['touch', m] })],
    ['cmd', (env, m) => ({ ...env, cmd: 'exec', args: ['touch', m] })],
    ['opts', (env, m) => ({ ...env, args: [`touch ${m}`], opts: { shell: true } })],
    ['cwd', (env) => ({ ...env, cwd: '/' })],
    ['added field (timeoutMs)', (env) => ({ ...env, timeoutMs: 1 })],
    ['dropped field (ttlMs)', (env) => ({ ...env, ttlMs: undefined })],
  ];
  it.each(tamper)('[cp-sig-6] a captured command with its %s changed is BAD_SIGNATURE', async (_what, change) => {
    const m = marker(f);
    // Captured: a harmless exec the attacker saw on the wire (not published, so its id is fresh).
    const captured = signed(f, { cmd: 'exec', args: [`echo ${m}`], opts: { shell: false }, ttlMs: 60_000 });
    const env = change(captured, m);
    if (_what === 'cwd') env.args = ['touch', m]; // cwd alone changes nothing visible; make the forgery harmful too
    await forged(JSON.parse(JSON.stringify(env)), env.id, 'BAD_SIGNATURE', m);
  });

  it('[cp-sig-6] a captured fleet command with its target widened is BAD_SIGNATURE', async () => {
    const m = marker(f);
    const captured = signCommand({ id: nanoid(), sentAt: Date.now(), cmd: 'exec', args: ['touch', m], target: 'nobody-else' }, topics.fleetCmd(), f.ops.privateKey);
    await forged({ ...captured, target: 'all' }, captured.id!, 'BAD_SIGNATURE', m, topics.fleetCmd());
  });

  it('[cp-sig-6] a captured command re-sent with a new id is BAD_SIGNATURE', async () => {
    const m = marker(f);
    const captured = signed(f, { cmd: 'exec', args: ['touch', m] });
    const end = await runJob(f, captured);
    expect(end.type).toBe('result');
    const { rmSync } = await import('node:fs');
    rmSync(m);
    const id = nanoid();
    await forged({ ...captured, id }, id, 'BAD_SIGNATURE', m);
  });

  it('[cp-sig-6] the same signed command again is a duplicate, never a second run', async () => {
    const m = marker(f);
    const captured = signed(f, { cmd: 'exec', args: ['sh', '-c', `echo x >> ${m}`] });
    await runJob(f, captured);
    f.wire.send(topics.cmd(f.host), captured);
    await f.wire.waitFor((x) => x.topic === topics.errors(f.host) && x.json.type === 'duplicate' && x.json.job === captured.id);
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(m, 'utf8')).toBe('x\n');
  });

  it('[cp-sig-6] a command signed for another host, replayed to this one, is BAD_SIGNATURE', async () => {
    const m = marker(f);
    const env = signed(f, { cmd: 'exec', args: ['touch', m] }, f.ops.privateKey, topics.cmd('other-host'));
    await forged(env, env.id, 'BAD_SIGNATURE', m);
  });

  it('[cp-sig-4] a signed command without sentAt (never expiring) is BAD_SIGNATURE', async () => {
    const m = marker(f);
    const env = signed(f, { cmd: 'exec', args: ['touch', m] });
    await forged({ ...env, sentAt: undefined }, env.id, 'BAD_SIGNATURE', m);
  });

  const late: [string, number, string][] = [
    ['replayed after its TTL is EXPIRED', -120_000, 'EXPIRED'],
    ['with sentAt beyond the skew allowance is CLOCK_SKEW', 3_600_000, 'CLOCK_SKEW'],
  ];
  it.each(late)('[cp-sig-6] a captured command %s (on the job topic: the signature holds)', async (_what, offset, code) => {
    const m = marker(f);
    const env = signCommand({ id: nanoid(), sentAt: Date.now() + offset, ttlMs: 60_000, cmd: 'exec', args: ['touch', m] }, topics.cmd(f.host), f.ops.privateKey);
    const end = await runJob(f, env);
    expect(end).toMatchObject({ type: 'error', error: code });
    expect(existsSync(m)).toBe(false);
    expectAuditedRefusal(f, env.id!, code);
  });

  it('[cp-sig-5] a forgery that copies a genuine id first does not block the genuine command', async () => {
    const m = marker(f);
    const genuine = signed(f, { cmd: 'exec', args: ['touch', m] });
    await refusedNotice(f, { ...genuine, args: ['touch', `${m}.evil`] }, genuine.id);
    const end = await runJob(f, genuine);
    expect(end).toMatchObject({ type: 'result', code: 0 });
    expect(existsSync(m)).toBe(true);
    expect(existsSync(`${m}.evil`)).toBe(false);
  });

  it('[cp-sig-7] presence announces the agent key and requireSigned', async () => {
    const st = await f.wire.waitFor((x) => x.topic === topics.status(f.host) && x.json.online === true);
    const p = st.json as Presence;
    expect(p.requireSigned).toBe(true);
    expect(() => parsePublicKey(p.key!)).not.toThrow();
  });

  it('[cp-sig-8] terminal events are signed with the announced key and verify with verifyEvent', async () => {
    const st = await f.wire.waitFor((x) => x.topic === topics.status(f.host) && x.json.online === true);
    const hostKey = parsePublicKey(st.json.key);
    const ok = signed(f, { cmd: 'ping' });
    const end = await runJob(f, ok);
    expect(verifyEvent(end, topics.job(f.host, ok.id), hostKey)).toMatchObject({ ok: true });
    const bad = signed(f, { cmd: 'rdfile', args: ['/nonexistent/x'] });
    const err = await runJob(f, bad);
    expect(err.type).toBe('error');
    expect(verifyEvent(err, topics.job(f.host, bad.id), hostKey)).toMatchObject({ ok: true });
    // Moved to another job's topic, or altered, it no longer verifies.
    expect(verifyEvent(end, topics.job(f.host, bad.id), hostKey)).toMatchObject({ ok: false, error: 'BAD_SIGNATURE' });
    expect(verifyEvent({ ...end, code: 1 }, topics.job(f.host, ok.id), hostKey)).toMatchObject({ ok: false });
  });

  it('[cp-sig-8] a replayed terminal event carries the same signed bytes and still verifies', async () => {
    const st = await f.wire.waitFor((x) => x.topic === topics.status(f.host) && x.json.online === true);
    const job = signed(f, { cmd: 'ping' });
    const first = await runJob(f, job);
    const before = f.wire.jobEvents(f.host, job.id).length;
    await runJob(f, signed(f, { cmd: 'replay', args: [job.id] }));
    await f.wire.waitFor((x) => x.topic === topics.job(f.host, job.id) && f.wire.jobEvents(f.host, job.id).length > before + 1, 10_000, 'the replayed events');
    const again = f.wire.jobEvents(f.host, job.id).filter((e) => e.type === 'result');
    expect(again.length).toBe(2);
    expect(again[1]).toEqual(first);
    expect(verifyEvent(again[1], topics.job(f.host, job.id), parsePublicKey(st.json.key))).toMatchObject({ ok: true });
  });

  it('[cp-audit-1] the audit command returns chained records, the refusals among them', async () => {
    const { chainProblem } = await import('../../../protocol/index.js');
    const q = signed(f, { cmd: 'audit', opts: { limit: 1000 } });
    const end = await runJob(f, q);
    expect(end.type).toBe('result');
    const recs = end.value.records as Record<string, unknown>[];
    expect(recs.length).toBeGreaterThan(10);
    expect(chainProblem(recs)).toBeUndefined();
    expect(recs.some((r) => r.code === 'UNSIGNED')).toBe(true);
    expect(chainProblem([recs[0], { ...recs[1], code: 'TAMPERED' }])).toMatch(/altered/);
  });
});

