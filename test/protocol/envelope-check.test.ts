// The hand check of the envelope (the agent's and the controller's hot path) answers as CommandSchema
// does: it never accepts what zod refuses, and what it accepts comes out exactly as zod's output.
// Every row runs through both; a row the hand check leaves to zod still gets zod's own answer.
import { describe, expect, it } from 'vitest';
import { checkCommand, CommandSchema, decodeCommand, ENVELOPE_KEY_ORDER, fastCommand } from '../../protocol/index.js';

const KID = 'AbCdEfGhIjKlMnOp';
const SIG = `${'A'.repeat(85)}Q==`;
const ok = { id: 'j1', cmd: 'ping' };

/** [name, envelope] that CommandSchema refuses. */
const BAD: [string, unknown][] = [
  ['not an object', 'ping'],
  ['null', null],
  ['an array', [ok]],
  ['no cmd', { id: 'j1' }],
  ['cmd empty', { cmd: '' }],
  ['cmd 65 characters', { cmd: 'x'.repeat(65) }],
  ['cmd a number', { cmd: 1 }],
  ['unknown field [cp-env-10]', { ...ok, extra: 1 }],
  ['unknown field set to undefined', { ...ok, extra: undefined }],
  ['v 2', { ...ok, v: 2 }],
  ['v "1"', { ...ok, v: '1' }],
  ['v null', { ...ok, v: null }],
  ['id with a slash [cp-name-2]', { ...ok, id: 'a/b' }],
  ['id with a wildcard', { ...ok, id: 'a+' }],
  ['id 65 characters', { ...ok, id: 'a'.repeat(65) }],
  ['id empty', { ...ok, id: '' }],
  ['id a number', { ...ok, id: 5 }],
  ['id null', { ...ok, id: null }],
  ['args an object', { ...ok, args: { 0: 'a' } }],
  ['args a string', { ...ok, args: 'a b' }],
  ['args null', { ...ok, args: null }],
  ['args 4097 items', { ...ok, args: new Array(4097).fill(0) }],
  ['opts an array', { ...ok, opts: [] }],
  ['opts null', { ...ok, opts: null }],
  ['opts a string', { ...ok, opts: 'x' }],
  ['opts a Map', { ...ok, opts: new Map() }],
  ['opts a class instance', { ...ok, opts: new (class Opts { a = 1 })() }],
  ['from 129 characters', { ...ok, from: 'f'.repeat(129) }],
  ['from a number', { ...ok, from: 7 }],
  ['sentAt negative', { ...ok, sentAt: -1 }],
  ['sentAt a fraction', { ...ok, sentAt: 1.5 }],
  ['sentAt past 2^53', { ...ok, sentAt: 2 ** 53 }],
  ['sentAt a string', { ...ok, sentAt: '1' }],
  ['sentAt NaN', { ...ok, sentAt: NaN }],
  ['sentAt Infinity', { ...ok, sentAt: Infinity }],
  ['ttlMs 0', { ...ok, ttlMs: 0 }],
  ['ttlMs past 24 h', { ...ok, ttlMs: 24 * 3600 * 1000 + 1 }],
  ['ttlMs a fraction', { ...ok, ttlMs: 10.5 }],
  ['timeoutMs 0', { ...ok, timeoutMs: 0 }],
  ['timeoutMs negative', { ...ok, timeoutMs: -5 }],
  ['timeoutMs a string', { ...ok, timeoutMs: '5' }],
  ['cwd empty', { ...ok, cwd: '' }],
  ['cwd 4097 characters', { ...ok, cwd: '/'.repeat(4097) }],
  ['session with a space', { ...ok, session: 'a b' }],
  ['session empty', { ...ok, session: '' }],
  ['fold "true"', { ...ok, fold: 'true' }],
  ['fold 1', { ...ok, fold: 1 }],
  ['out "binary"', { ...ok, out: 'binary' }],
  ['out null', { ...ok, out: null }],
  ['target empty', { ...ok, target: '' }],
  ['target 1025 characters', { ...ok, target: 't'.repeat(1025) }],
  ['sig a string', { ...ok, sig: SIG }],
  ['sig null', { ...ok, sig: null }],
  ['sig without value', { ...ok, sig: { kid: KID } }],
  ['sig with an extra field', { ...ok, sig: { kid: KID, value: SIG, alg: 'ed25519' } }],
  ['sig kid too short', { ...ok, sig: { kid: 'abc', value: SIG } }],
  ['sig value not 64 bytes', { ...ok, sig: { kid: KID, value: 'AAAA' } }],
  ['sig value with a bad last character', { ...ok, sig: { kid: KID, value: `${'A'.repeat(85)}B==` } }],
];

/** [name, envelope] that CommandSchema accepts; the hand check must accept them too (the hot path). */
const GOOD: [string, unknown][] = [
  ['cmd only', { cmd: 'ping' }],
  ['id and cmd', ok],
  ['every field', { v: 1, id: 'j.1_-', cmd: 'exec', args: ['ls', 1, null, { a: [1] }], opts: { shell: true, env: { A: 'b' } }, from: 'ops', sentAt: 0, ttlMs: 24 * 3600 * 1000, timeoutMs: 1, cwd: '/', session: 's1', fold: false, out: 'json', target: 'role=web', sig: { kid: KID, value: SIG } }],
  ['fields in another order', { sig: { value: SIG, kid: KID }, target: 'all', out: 'raw', fold: true, cmd: 'ping', id: 'x' }],
  ['optional fields set to undefined (kept as keys, as zod keeps them)', { cmd: 'ping', id: undefined, from: undefined, sig: undefined, args: undefined, opts: undefined }],
  ['4096 args', { cmd: 'x', args: new Array(4096).fill('a') }],
  ['from empty', { cmd: 'x', from: '' }],
  ['64-character cmd and id', { cmd: 'c'.repeat(64), id: 'i'.repeat(64) }],
  ['largest safe sentAt', { cmd: 'x', sentAt: Number.MAX_SAFE_INTEGER }],
  ['opts with a null prototype', { cmd: 'x', opts: Object.assign(Object.create(null), { a: 1 }) }],
  ['opts with numeric keys', { cmd: 'x', opts: { b: 1, 2: 'two', a: 3, 1: 'one' } }],
  ['args with undefined', { cmd: 'x', args: [undefined, 1] }],
];

/** Envelopes zod accepts that the hand check leaves to zod: they still get zod's answer through checkCommand. */
const LEFT_TO_ZOD: [string, unknown][] = [
  ['opts with a non-enumerable key', { cmd: 'x', opts: Object.defineProperty({ a: 1 }, 'hidden', { value: 2, enumerable: false }) }],
  ['a class instance envelope', new (class Env { cmd = 'ping' })()],
  ['opts with a __proto__ key as JSON.parse makes it', JSON.parse('{"cmd":"x","opts":{"__proto__":{"p":1}}}')],
];

/** The output as zod gives it, compared key by key and in order (undefined-valued keys included). */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(shape);
  if (typeof v === 'object' && v !== null) return Object.entries(v).map(([k, x]) => [k, shape(x)]);
  return v;
}

describe('the hand check of the command envelope [cp-env-*]', () => {
  it.each(BAD)('refuses %s, as CommandSchema does', (_name, env) => {
    expect(CommandSchema.safeParse(env).success).toBe(false);
    expect(fastCommand(env)).toBeUndefined();
    const checked = checkCommand(env);
    expect(checked.success).toBe(false);
    expect(!checked.success && checked.error.issues).toEqual((CommandSchema.safeParse(env) as { error: { issues: unknown } }).error.issues);
  });

  it.each(GOOD)('accepts %s with exactly zod’s output: keys, order, defaults', (_name, env) => {
    const zod = CommandSchema.safeParse(env);
    expect(zod.success).toBe(true);
    const fast = fastCommand(env);
    expect(fast).toBeDefined();
    expect(shape(fast)).toEqual(shape(zod.data));
    // Copies, as zod makes them: a caller that changes its envelope later does not change the command.
    const e = env as { args?: unknown; opts?: unknown };
    if (e.args !== undefined) expect(fast!.args).not.toBe(e.args);
    if (e.opts !== undefined) expect(fast!.opts).not.toBe(e.opts);
  });

  it.each(LEFT_TO_ZOD)('leaves %s to zod, whose answer checkCommand returns', (_name, env) => {
    expect(fastCommand(env)).toBeUndefined();
    expect(shape(checkCommand(env))).toEqual(shape(CommandSchema.safeParse(env)));
  });

  it('decodes a payload to the same command or the same error whichever path checked it', () => {
    for (const [, env] of [...BAD, ...GOOD]) {
      if (typeof env !== 'object' || env === null || Array.isArray(env)) continue; // not an object: MALFORMED before any check
      const payload = Buffer.from(JSON.stringify(env));
      const decoded = decodeCommand(payload);
      const raw = JSON.parse(payload.toString()) as Record<string, unknown>;
      const zod = CommandSchema.safeParse(raw);
      if (raw.v !== undefined && raw.v !== 1) expect(decoded).toMatchObject({ ok: false, error: 'UNSUPPORTED_VERSION' });
      else if (zod.success) expect(decoded.ok && shape(decoded.value)).toEqual(shape(zod.data));
      else expect(decoded).toMatchObject({ ok: false, error: 'BAD_ENVELOPE' });
    }
  });

  it('keeps the key order of CommandSchema, in which zod writes its output', () => {
    expect([...ENVELOPE_KEY_ORDER]).toEqual(Object.keys(CommandSchema.shape));
  });

  it('never accepts what zod refuses, over 5,000 envelopes mutated from valid ones', () => {
    // A seeded generator: the same envelopes on every run.
    let seed = 17;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    const values: unknown[] = [undefined, null, 0, -1, 1, 1.5, 2 ** 53, '', 'a', 'a/b', 'x'.repeat(70), true, [], [1], {}, { a: 1 }, { kid: KID, value: SIG }, 'raw', 'json', 24 * 3600 * 1000];
    const keys = [...ENVELOPE_KEY_ORDER, 'extra'];
    let accepted = 0;
    for (let i = 0; i < 5000; i++) {
      const env: Record<string, unknown> = { ...(GOOD[rnd(GOOD.length)]![1] as object) };
      for (let m = rnd(3) + 1; m > 0; m--) env[keys[rnd(keys.length)]!] = values[rnd(values.length)];
      const zod = CommandSchema.safeParse(env);
      const fast = fastCommand(env);
      if (fast) {
        accepted++;
        expect(zod.success, JSON.stringify(env)).toBe(true);
        expect(shape(fast)).toEqual(shape(zod.data));
      }
    }
    expect(accepted).toBeGreaterThan(100);
  });
});
