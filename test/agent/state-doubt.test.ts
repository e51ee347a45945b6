// What an agent with a damaged or unavailable state directory still runs [cp-state-1] [cp-state-2]:
// doubt() driven directly, and its place in judge()'s order of checks (after dedupe and time).
import { describe, expect, it } from 'vitest';
import { judge, type JudgeEnv } from '../../agent/inbound/judge.js';
import { registerBuiltins } from '../../agent/commands/index.js';
import { CommandRegistry } from '../../agent/registry.js';
import { doubt, type StateHealth } from '../../agent/state/health.js';
import { topics } from '../../protocol/index.js';

const SINCE = 1_800_000_000_000;
const SKEW = 5_000;
const damaged: StateHealth = { status: 'damaged', since: SINCE, until: SINCE + 86_405_000, reason: 'journal.log is empty (0 bytes)' };
const unavailable: StateHealth = { status: 'unavailable', since: SINCE, reason: 'journal.log cannot be appended to (EIO)' };

describe('doubt()', () => {
  const now = SINCE + 60_000;
  it('[cp-state-1] a healthy directory doubts nothing', () => {
    expect(doubt({ status: 'ok' }, { id: 'a' }, now, SKEW)).toBeUndefined();
  });

  it('[cp-state-1] after damage, refuses a command sent before it (+ skew) and an id without sentAt; runs later ones and id-less ones', () => {
    expect(doubt(damaged, { id: 'a', sentAt: SINCE - 1 }, now, SKEW)?.error).toBe('STATE_DAMAGED');
    expect(doubt(damaged, { id: 'a', sentAt: SINCE + SKEW - 1 }, now, SKEW)?.error).toBe('STATE_DAMAGED');
    expect(doubt(damaged, { id: 'a' }, now, SKEW)?.message).toMatch(/no sentAt/);
    expect(doubt(damaged, { id: 'a', sentAt: SINCE + SKEW }, now, SKEW)).toBeUndefined();
    expect(doubt(damaged, { sentAt: SINCE - 1 }, now, SKEW)).toBeUndefined();
  });

  it('[cp-state-1] the doubt ends with the dedupe window after the damage', () => {
    if (damaged.status !== 'damaged') throw new Error('fixture');
    expect(doubt(damaged, { id: 'a' }, damaged.until, SKEW)).toBeUndefined();
  });

  it('[cp-state-2] an unavailable directory refuses everything, with or without id and sentAt', () => {
    for (const c of [{ id: 'a', sentAt: now }, { id: 'a' }, {}]) expect(doubt(unavailable, c, now, SKEW)?.error).toBe('STATE_UNAVAILABLE');
  });
});

describe('judge() with a doubting state', () => {
  const registry = new CommandRegistry();
  registerBuiltins(registry);
  const env = (health: StateHealth, seen: string[] = []): JudgeEnv => ({
    host: 'web-1',
    labels: {},
    clockSkewMs: SKEW,
    lookup: (n) => registry.get(n),
    known: () => registry.list().map((c) => c.name),
    hasSeen: (id) => seen.includes(id),
    now: () => SINCE + 1_000,
    doubt: (c) => doubt(health, c, SINCE + 1_000, SKEW),
  });
  const payload = (o: object) => Buffer.from(JSON.stringify(o));

  it('[cp-dispatch-1] [cp-state-1] a known id is still a duplicate, an expired command still EXPIRED; the rest STATE_DAMAGED on the job topic', () => {
    expect(judge(env(damaged, ['old']), topics.cmd('web-1'), payload({ id: 'old', cmd: 'ping', sentAt: SINCE - 10 })).kind).toBe('duplicate');
    expect(judge(env(damaged), topics.cmd('web-1'), payload({ id: 'x', cmd: 'ping', sentAt: SINCE - 600_000 }))).toMatchObject({ kind: 'reject', error: 'EXPIRED' });
    expect(judge(env(damaged), topics.cmd('web-1'), payload({ id: 'y', cmd: 'ping', sentAt: SINCE - 10 }))).toMatchObject({ kind: 'reject', id: 'y', error: 'STATE_DAMAGED' });
    expect(judge(env(unavailable), topics.cmd('web-1'), payload({ id: 'z', cmd: 'ping' }))).toMatchObject({ kind: 'reject', id: 'z', error: 'STATE_UNAVAILABLE' });
  });
});
