// The hand check of a job's result (agent/jobs/terminal.ts) only vouches for what ResultEvent
// accepts [cp-evt-5]: every body it passes, zod passes; the ones it does not know go to zod.
import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION, ResultEvent } from '../../protocol/index.js';
import { checkedTerminal, plainResult } from '../../agent/jobs/terminal.js';

const ok = { type: 'result', code: 0, durationMs: 0, events: 0 };
const zodAccepts = (body: object) => ResultEvent.safeParse({ v: PROTOCOL_VERSION, host: '', job: 'j', seq: 0, ts: 0, ...body }).success;

/** Bodies ResultEvent refuses: a JavaScript plugin's Outcome is not held to its types. */
const BAD: [string, object][] = [
  ['a fractional code', { ...ok, code: 1.5 }],
  ['a string code', { ...ok, code: '0' }],
  ['code missing', { type: 'result', durationMs: 0, events: 0 }],
  ['code undefined', { ...ok, code: undefined }],
  ['a numeric signal', { ...ok, code: null, signal: 9 }],
  ['durationMs Infinity', { ...ok, durationMs: Infinity }],
  ['durationMs NaN', { ...ok, durationMs: NaN }],
  ['durationMs missing', { type: 'result', code: 0, events: 0 }],
  ['events negative', { ...ok, events: -1 }],
  ['events a fraction', { ...ok, events: 0.5 }],
  ['timedOut "yes"', { ...ok, timedOut: 'yes' }],
  ['killed 1', { ...ok, killed: 1 }],
  ['valueOmitted a number', { ...ok, valueOmitted: 3 }],
  ['a ts that is not a number', { ...ok, ts: 'now' }],
  ['a malformed folded accepted', { ...ok, accepted: { cmd: 'x' } }],
  ['a malformed sig', { ...ok, sig: { kid: 'x' } }],
];

/** Bodies ResultEvent accepts; the common ones the hand check passes without zod. */
const GOOD: [string, object, boolean][] = [
  ['a plain result', ok, true],
  ['with a value of any shape', { ...ok, value: { a: [1, { b: null }] } }, true],
  ['killed by a signal', { ...ok, code: null, signal: 'SIGKILL', killed: true, timedOut: false }, true],
  ['signal null', { ...ok, signal: null }, true],
  ['valueOmitted', { ...ok, valueOmitted: 'value was 300000 bytes' }, true],
  ['an extra field zod strips', { ...ok, extra: 1 }, false],
  ['a class instance', Object.assign(new (class Body {})(), ok), false],
];

describe('the hand check of a job result [cp-evt-5]', () => {
  it.each(BAD)('leaves %s to zod, which refuses it', (_n, body) => {
    expect(zodAccepts(body)).toBe(false);
    expect(plainResult(body)).toBe(false);
    expect(checkedTerminal('j', body as never)).toMatchObject({ type: 'error', error: 'FAILED' });
  });

  it.each(GOOD)('answers %s as zod does', (_n, body, fast) => {
    expect(zodAccepts(body)).toBe(true);
    expect(plainResult(body)).toBe(fast);
    expect(checkedTerminal('j', body as never)).toBe(body);
  });
});
