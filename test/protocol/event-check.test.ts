// The hand check of received job events (the controller's hot path) answers as JobEventSchema does:
// it never accepts what zod refuses, and what it accepts comes out exactly as zod's output [cp-evt-*].
import { describe, expect, it } from 'vitest';
import { AcceptedEvent, decodeEvent, ErrorEvent, EVENT_FIELDS, fastEvent, JobEventSchema, ResultEvent } from '../../protocol/index.js';

const SIG = { kid: 'AbCdEfGhIjKlMnOp', value: `${'A'.repeat(85)}Q==` };
const base = { v: 1, host: 'web-1', job: 'j1', seq: 0, ts: 1_764_300_000_000 };
const acc = { cmd: 'ping', args: [], kind: 'foreground', boot: 7 };
const result = { ...base, type: 'result', code: 0, durationMs: 1.5, events: 0 };
const error = { ...base, type: 'error', code: -1, error: 'BAD_ARGS', message: 'usage' };
const accepted = { ...base, type: 'accepted', ...acc };

/** Events zod accepts; `true` when the hand check should answer without it. */
const GOOD: [string, object, boolean][] = [
  ['a result', result, true],
  ['a signed result with a value and a folded accepted', { ...result, value: { pong: true, n: [1, 2] }, accepted: { ...acc, from: 'ops' }, sig: SIG }, true],
  ['a killed result', { ...result, code: null, signal: 'SIGKILL', killed: true, timedOut: false }, true],
  ['a result with signal null and a value null', { ...result, signal: null, value: null }, true],
  ['a result with valueOmitted', { ...result, valueOmitted: 'too big' }, true],
  ['an error with everything', { ...error, durationMs: 0, events: 0, accepted: { ...acc, argsOmitted: 'cut' }, sig: SIG }, true],
  ['an accepted', { ...accepted, from: 'ops', args: ['a', 1, { b: null }] }, true],
  ['a background accepted', { ...accepted, kind: 'background' }, true],
  ['a result with a field zod strips', { ...result, extra: 1 }, false],
  ['an accepted folded with a field zod strips', { ...result, accepted: { ...acc, extra: 1 } }, false],
  ['an output event', { ...base, type: 'output', stream: 'stdout', data: 'hi' }, false],
  ['a gap event', { ...base, type: 'gap', droppedEvents: 1, droppedBytes: 2, reason: 'r' }, false],
];

/** Events zod refuses. */
const BAD: [string, object][] = [
  ['v 2', { ...result, v: 2 }],
  ['seq negative', { ...result, seq: -1 }],
  ['seq a fraction', { ...result, seq: 0.5 }],
  ['ts a string', { ...result, ts: '1' }],
  ['host missing', { ...result, host: undefined }],
  ['an unknown type', { ...base, type: 'done' }],
  ['code a fraction', { ...result, code: 0.5 }],
  ['code missing', { ...base, type: 'result', durationMs: 1, events: 0 }],
  ['signal a number', { ...result, signal: 9 }],
  ['events negative', { ...result, events: -1 }],
  ['timedOut a string', { ...result, timedOut: 'no' }],
  ['a sig with a third field', { ...result, sig: { ...SIG, alg: 'x' } }],
  ['a sig with a short kid', { ...result, sig: { ...SIG, kid: 'abc' } }],
  ['a folded accepted without boot', { ...result, accepted: { cmd: 'x', args: [], kind: 'foreground' } }],
  ['a folded accepted with kind "later"', { ...result, accepted: { ...acc, kind: 'later' } }],
  ['an error code the contract does not know', { ...error, error: 'NOPE' }],
  ['an error named after a prototype key', { ...error, error: 'constructor' }],
  ['an error without message', { ...base, type: 'error', code: 1, error: 'FAILED' }],
  ['an accepted with args an object', { ...accepted, args: {} }],
  ['an accepted with a fractional boot', { ...accepted, boot: 1.5 }],
];

const json = (o: object) => JSON.parse(JSON.stringify(o)) as unknown;
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(shape);
  if (typeof v === 'object' && v !== null) return Object.entries(v).map(([k, x]) => [k, shape(x)]);
  return v;
}

describe('the hand check of received job events [cp-evt-*]', () => {
  it.each(GOOD)('answers %s as zod does', (_n, ev, fast) => {
    const raw = json(ev);
    const zod = JobEventSchema.safeParse(raw);
    expect(zod.success).toBe(true);
    const quick = fastEvent(raw);
    expect(quick !== undefined).toBe(fast);
    if (quick) expect(shape(quick)).toEqual(shape(zod.data));
    expect(shape(decodeEvent(Buffer.from(JSON.stringify(ev))))).toEqual(shape(zod.data));
  });

  it.each(BAD)('refuses %s, as zod does', (_n, ev) => {
    const raw = json(ev);
    expect(JobEventSchema.safeParse(raw).success).toBe(false);
    expect(fastEvent(raw)).toBeUndefined();
    expect(decodeEvent(Buffer.from(JSON.stringify(ev)))).toBeUndefined();
  });

  it('knows the fields of accepted, result and error in the schemas’ order', () => {
    const keys = (type: string) => EVENT_FIELDS[type]!.map(([k]) => k.replace(/\?$/, ''));
    expect(keys('accepted')).toEqual(Object.keys(AcceptedEvent.shape));
    expect(keys('result')).toEqual(Object.keys(ResultEvent.shape));
    expect(keys('error')).toEqual(Object.keys(ErrorEvent.shape));
    for (const [type, schema] of [['accepted', AcceptedEvent], ['result', ResultEvent], ['error', ErrorEvent]] as const) {
      const optional = EVENT_FIELDS[type]!.filter(([k]) => k.endsWith('?')).map(([k]) => k.slice(0, -1));
      expect(optional, type).toEqual(Object.keys(schema.shape).filter((k) => (schema.shape as Record<string, { safeParse(v: unknown): { success: boolean } }>)[k]!.safeParse(undefined).success));
    }
  });

  it('never accepts what zod refuses, over 5,000 events mutated from valid ones', () => {
    let seed = 29;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    const values: unknown[] = [null, 0, -1, 1, 1.5, '', 'x', 'FAILED', 'foreground', 'result', true, [], {}, SIG, acc, { ...acc, boot: 'b' }];
    const keys = ['v', 'host', 'job', 'seq', 'ts', 'type', 'code', 'signal', 'durationMs', 'events', 'value', 'timedOut', 'accepted', 'sig', 'error', 'message', 'cmd', 'args', 'kind', 'boot', 'from'];
    let accepted = 0;
    for (let i = 0; i < 5000; i++) {
      const ev = { ...(GOOD[rnd(8)]![1] as Record<string, unknown>) };
      for (let m = rnd(3) + 1; m > 0; m--) {
        const k = keys[rnd(keys.length)]!;
        if (rnd(5) === 0) delete ev[k];
        else ev[k] = values[rnd(values.length)];
      }
      const raw = json(ev);
      const quick = fastEvent(raw);
      if (!quick) continue;
      accepted++;
      const zod = JobEventSchema.safeParse(raw);
      expect(zod.success, JSON.stringify(ev)).toBe(true);
      expect(shape(quick)).toEqual(shape(zod.data));
    }
    expect(accepted).toBeGreaterThan(100);
  });
});
