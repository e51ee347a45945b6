// The job events a controller receives most (`accepted`, `result`, `error`), checked by hand before
// zod: decoding was ≈ 45 µs of the controller's ≈ 0.3 ms per ping event in the roundtrip CPU
// profile. As with the envelope (envelope-check.ts) the hand check only ever accepts: it returns
// what JobEventSchema would (known keys in schema order, arrays and objects copied), and leaves
// everything else (unknown keys, which zod strips; other types; anything invalid) to zod.
// test/protocol/event-check.test.ts holds both to the same answers.
import { ErrorCodes } from './codes.js';
import type { JobEvent } from './events.js';
import { signatureOf } from './signature.js';

type Rule = (v: unknown) => unknown;
/** A rule returns the value to keep, or FAIL. */
const FAIL = Symbol('fail');

const plainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;
const safeInt = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v);
const str: Rule = (v) => (typeof v === 'string' ? v : FAIL);
const num: Rule = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : FAIL);
const int: Rule = (v) => (safeInt(v) ? v : FAIL);
const count: Rule = (v) => (safeInt(v) && (v as number) >= 0 ? v : FAIL);
const bool: Rule = (v) => (typeof v === 'boolean' ? v : FAIL);
const any: Rule = (v) => v;
const array: Rule = (v) => (Array.isArray(v) ? Array.from(v) : FAIL);
const oneOf =
  (...values: unknown[]): Rule =>
  (v) =>
    values.includes(v) ? v : FAIL;

/** Each event type's fields in JobEventSchema's order; `?` marks an optional one. */
function fields(type: string, rest: [string, Rule][]): [string, Rule][] {
  return [['v', oneOf(1)], ['host', str], ['job', str], ['seq', count], ['ts', num], ['type', oneOf(type)], ...rest];
}

const ACCEPTED_FIELDS: [string, Rule][] = [['cmd', str], ['args', array], ['kind', oneOf('foreground', 'background')], ['from?', str], ['boot', int], ['argsOmitted?', str]];
const sig: Rule = (v) => signatureOf(v) ?? FAIL;
const folded: Rule = (v) => copyKnown(v, ACCEPTED_FIELDS) ?? FAIL;

/** The shapes the hand check knows, by `type`; exported for the test that compares them with JobEventSchema. */
export const EVENT_FIELDS: Record<string, [string, Rule][]> = {
  accepted: fields('accepted', ACCEPTED_FIELDS),
  result: fields('result', [
    ['code', (v) => (v === null ? v : int(v))],
    ['signal?', (v) => (v === null ? v : str(v))],
    ['durationMs', num],
    ['events', count],
    ['value?', any],
    ['timedOut?', bool],
    ['killed?', bool],
    ['valueOmitted?', str],
    ['accepted?', folded],
    ['sig?', sig],
  ]),
  error: fields('error', [
    ['code', int],
    ['error', (v) => (typeof v === 'string' && Object.hasOwn(ErrorCodes, v) ? v : FAIL)],
    ['message', str],
    ['durationMs?', num],
    ['events?', count],
    ['accepted?', folded],
    ['sig?', sig],
  ]),
};

/** The event as JobEventSchema's output, or undefined when the hand check leaves it to zod. `raw` is fresh from JSON.parse. */
export function fastEvent(raw: unknown): JobEvent | undefined {
  if (!plainObject(raw) || typeof raw.type !== 'string' || !Object.hasOwn(EVENT_FIELDS, raw.type)) return undefined;
  return copyKnown(raw, EVENT_FIELDS[raw.type]!) as JobEvent | undefined;
}

function copyKnown(raw: unknown, shape: [string, Rule][]): Record<string, unknown> | undefined {
  if (!plainObject(raw)) return undefined;
  const out: Record<string, unknown> = {};
  let known = 0;
  for (const [spec, rule] of shape) {
    const optional = spec.endsWith('?');
    const key = optional ? spec.slice(0, -1) : spec;
    if (!Object.hasOwn(raw, key)) {
      if (optional) continue;
      return undefined;
    }
    const v = rule(raw[key]);
    if (v === FAIL) return undefined;
    out[key] = v;
    known++;
  }
  // A key the schema does not know is stripped by zod: left to it, rather than decided twice.
  return Object.keys(raw).length === known ? out : undefined;
}
