// judge(): the verdict on one received payload, driven directly with a plain environment (a real
// registry with the built-in commands, a set of seen ids, a fixed clock). No broker: the wire path
// is covered by contract.test.ts; this file pins every verdict and the order of the checks.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { judge, type JudgeEnv, type Verdict } from '../../agent/inbound/judge.js';
import { CommandRegistry } from '../../agent/registry.js';
import { registerBuiltins } from '../../agent/commands/index.js';
import { DEFAULT_TTL_MS, topics } from '../../protocol/index.js';

const NOW = 1_800_000_000_000;
const SKEW = 5_000;

function env(seen: string[] = [], labels: Record<string, string> = { role: 'web' }): JudgeEnv {
  const registry = new CommandRegistry();
  registerBuiltins(registry);
  registry.register('foreground', 'greet', () => 'hi', { args: z.tuple([z.string()]), opts: z.object({ loud: z.boolean().optional() }).strict(), usage: '<name> [loud=true]' });
  const ids = new Set(seen);
  return {
    host: 'web-1',
    labels,
    clockSkewMs: SKEW,
    lookup: (n) => registry.get(n),
    known: () => registry.list().map((c) => c.name),
    hasSeen: (id) => ids.has(id),
    now: () => NOW,
  };
}

const own = topics.cmd('web-1');
const fleet = topics.fleetCmd();
const json = (o: unknown) => Buffer.from(JSON.stringify(o));
const verdict = (payload: unknown, topic = own, e = env()): Verdict => judge(e, topic, typeof payload === 'string' ? Buffer.from(payload) : json(payload));

function rejected(v: Verdict, error: string): Extract<Verdict, { kind: 'reject' }> {
  expect(v.kind).toBe('reject');
  const r = v as Extract<Verdict, { kind: 'reject' }>;
  expect(r.error).toBe(error);
  return r;
}

describe('judge', () => {
  it('[cp-dispatch-1] ignores another host\'s command topic and topics that are not command topics', () => {
    expect(verdict({ id: 'a1', cmd: 'ping' }, topics.cmd('db-1'))).toEqual({ kind: 'ignore' });
    expect(verdict({ id: 'a1', cmd: 'ping' }, topics.status('web-1'))).toEqual({ kind: 'ignore' });
    expect(verdict({ id: 'a1', cmd: 'ping' }, topics.job('web-1', 'a1'))).toEqual({ kind: 'ignore' });
    expect(verdict({ id: 'a1', cmd: 'ping' }, 'elsewhere/entirely')).toEqual({ kind: 'ignore' });
  });

  it('[cp-err-2] a payload without a readable id gets a notice, since no job topic can carry the answer', () => {
    const v = verdict('{ not json');
    expect(v).toMatchObject({ kind: 'notice', error: 'MALFORMED' });
    expect(verdict({ cmd: 'ping', bogus: 1 })).toMatchObject({ kind: 'notice', error: 'BAD_ENVELOPE' });
  });

  it('[cp-dispatch-1] an undecodable payload with a readable id is a reject on its job, or a duplicate when the id was seen', () => {
    const r = rejected(verdict({ id: 'bad1', cmd: 'ping', bogus: 1 }), 'BAD_ENVELOPE');
    expect(r).toMatchObject({ id: 'bad1', cmd: '', args: [] });
    expect(verdict({ id: 'bad1', cmd: 'ping', bogus: 1 }, own, env(['bad1']))).toEqual({ kind: 'duplicate', id: 'bad1' });
  });

  it('[cp-dedupe-1] an id already seen is a duplicate, before any other check', () => {
    expect(verdict({ id: 'seen1', cmd: 'no-such-command' }, own, env(['seen1']))).toEqual({ kind: 'duplicate', id: 'seen1' });
    expect(verdict({ id: 'seen1', cmd: 'ping', sentAt: NOW - 10 * DEFAULT_TTL_MS }, own, env(['seen1']))).toEqual({ kind: 'duplicate', id: 'seen1' });
  });

  it('[cp-env-5] a command sent further in the future than the allowed skew is CLOCK_SKEW', () => {
    const r = rejected(verdict({ id: 'fut', cmd: 'ping', sentAt: NOW + SKEW + 1 }), 'CLOCK_SKEW');
    expect(r.message).toContain(`allowed clock skew is ${SKEW} ms`);
    expect(verdict({ id: 'fut', cmd: 'ping', sentAt: NOW + SKEW }).kind).toBe('run');
  });

  it('[cp-env-5] a command older than its TTL plus the skew is EXPIRED; the default TTL applies without ttlMs', () => {
    rejected(verdict({ id: 'old', cmd: 'ping', sentAt: NOW - 1_000 - SKEW - 1, ttlMs: 1_000 }), 'EXPIRED');
    expect(verdict({ id: 'old', cmd: 'ping', sentAt: NOW - 1_000 - SKEW, ttlMs: 1_000 }).kind).toBe('run');
    rejected(verdict({ id: 'old2', cmd: 'ping', sentAt: NOW - DEFAULT_TTL_MS - SKEW - 1 }), 'EXPIRED');
  });

  it('[cp-dispatch-2] an unregistered name, prototype names included, is UNKNOWN_COMMAND naming the known ones', () => {
    for (const cmd of ['nope', '__proto__', 'constructor', 'toString']) {
      const r = rejected(verdict({ id: 'u1', cmd }), 'UNKNOWN_COMMAND');
      expect(r.message).toContain('greet');
    }
  });

  it('[cp-dispatch-1] arguments and options that fail the command\'s schema are BAD_ARGS with its usage', () => {
    const a = rejected(verdict({ id: 'b1', cmd: 'greet', args: [42] }), 'BAD_ARGS');
    expect(a.message).toMatch(/^greet: .*usage: greet <name> \[loud=true\]$/);
    const o = rejected(verdict({ id: 'b2', cmd: 'greet', args: ['x'], opts: { loud: 'very' } }), 'BAD_ARGS');
    expect(o.message).toMatch(/^greet options: .*usage: greet <name>/);
    expect(o).toMatchObject({ id: 'b2', cmd: 'greet', args: ['x'] });
  });

  it('[cp-dispatch-1] a valid command runs with its parsed arguments and options, and gets an id when it had none', () => {
    const v = verdict({ id: 'r1', cmd: 'greet', args: ['ann'], opts: { loud: true } });
    expect(v).toMatchObject({ kind: 'run', id: 'r1', args: ['ann'], opts: { loud: true } });
    expect((v as Extract<Verdict, { kind: 'run' }>).def.name).toBe('greet');
    const anon = verdict('ping');
    expect(anon.kind).toBe('run');
    expect((anon as Extract<Verdict, { kind: 'run' }>).id).toMatch(/^[A-Za-z0-9]+$/);
  });

  it('[cp-fleet-1] a fleet command without a target is BAD_TARGET (a notice without id), never run everywhere', () => {
    rejected(verdict({ id: 'f1', cmd: 'ping' }, fleet), 'BAD_TARGET');
    expect(verdict({ cmd: 'ping' }, fleet)).toMatchObject({ kind: 'notice', error: 'BAD_TARGET' });
    expect(verdict({ id: 'f1', cmd: 'ping' }, fleet, env(['f1']))).toEqual({ kind: 'duplicate', id: 'f1' });
  });

  it('[cp-fleet-2] an unparseable target is BAD_TARGET naming the bad term', () => {
    const r = rejected(verdict({ id: 'f2', cmd: 'ping', target: 'web-1,bad term!' }, fleet), 'BAD_TARGET');
    expect(r.message).toContain('bad term!');
  });

  it('[cp-fleet-4] a fleet command selects this host by name, glob, label or all, and is silently ignored otherwise', () => {
    for (const target of ['web-1', 'web-*', 'role=web', 'all', 'db-1,web-1']) expect(verdict({ id: 'f3', cmd: 'ping', target }, fleet).kind).toBe('run');
    for (const target of ['db-1', 'db-*', 'role=db']) expect(verdict({ id: 'f3', cmd: 'ping', target }, fleet)).toEqual({ kind: 'ignore' });
  });

  it('[cp-dispatch-1] targeting comes before dedupe: an unselected fleet command is ignored even when its id was seen', () => {
    expect(verdict({ id: 'f4', cmd: 'ping', target: 'db-1' }, fleet, env(['f4']))).toEqual({ kind: 'ignore' });
  });
});
