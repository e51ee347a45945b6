// The decoder answers every payload [cp-err-1]: nesting past the limit is MALFORMED before any
// recursive code sees it [cp-limit-4], and prototype-named keys are refused alike everywhere [cp-env-11].
import { describe, expect, it } from 'vitest';
import { decodeCommand, jsonDepth, MAX_JSON_DEPTH } from '../../protocol/index.js';

const decode = (s: string) => decodeCommand(Buffer.from(s));
const nestedV = (n: number) => `{"id":"d1","cmd":"ping","v":${'{"v":'.repeat(n)}1${'}'.repeat(n)}}`;

describe('decodeCommand under hostile JSON', () => {
  it('[cp-limit-4] refuses `v` nested 10,000 levels deep as MALFORMED instead of throwing a RangeError', () => {
    const r = decode(nestedV(10_000));
    expect(r).toMatchObject({ ok: false, error: 'MALFORMED', code: -1 });
    expect(!r.ok && r.message).toMatch(`deeper than ${MAX_JSON_DEPTH} levels`);
  });

  it('[cp-limit-4] refuses deep arrays in args and opts too, and accepts nesting up to the limit', () => {
    expect(decode(`{"cmd":"ping","args":[${'['.repeat(100_000)}${']'.repeat(100_000)}]}`)).toMatchObject({ ok: false, error: 'MALFORMED' });
    const inner = MAX_JSON_DEPTH - 2; // the envelope object and the args array are two levels
    expect(decode(`{"cmd":"ping","args":[${'['.repeat(inner)}${']'.repeat(inner)}]}`).ok).toBe(true);
  });

  it('counts brackets inside strings as text, not nesting', () => {
    expect(jsonDepth(`{"a":"${'['.repeat(1000)}\\"${'{'.repeat(1000)}"}`)).toBe(1);
    expect(decode(`{"cmd":"ping","args":["${'['.repeat(1000)}"]}`).ok).toBe(true);
  });

  it('counts as the character-by-character scan does, escapes and unclosed strings included', () => {
    const reference = (text: string): number => {
      let depth = 0;
      let max = 0;
      let inString = false;
      for (let i = 0; i < text.length; i++) {
        const c = text[i];
        if (inString) {
          if (c === '\\') i++;
          else if (c === '"') inString = false;
        } else if (c === '"') inString = true;
        else if (c === '[' || c === '{') max = Math.max(max, ++depth);
        else if (c === ']' || c === '}') depth--;
      }
      return max;
    };
    const alphabet = ['[', ']', '{', '}', '"', '\\', 'a', ','];
    let seed = 7;
    const rand = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    for (let k = 0; k < 2000; k++) {
      const text = Array.from({ length: rand(40) }, () => alphabet[rand(alphabet.length)]).join('');
      expect(jsonDepth(text, 1000), text).toBe(reference(text));
    }
  });

  it('[cp-env-11] refuses __proto__, constructor and prototype alike in opts, args objects and the envelope', () => {
    for (const key of ['__proto__', 'constructor', 'prototype']) {
      const inOpts = decode(`{"id":"p1","cmd":"exec","args":["ls"],"opts":{"${key}":{"shell":true}}}`);
      expect(inOpts, key).toMatchObject({ ok: false, error: 'BAD_ARGS', id: 'p1' });
      expect(!inOpts.ok && inOpts.message).toContain(`opts.${key}: `);
      expect(decode(`{"id":"p2","cmd":"custom","args":[{"a":{"${key}":1}}]}`), key).toMatchObject({ ok: false, error: 'BAD_ARGS', id: 'p2' });
      expect(decode(`{"id":"p3","cmd":"ping","${key}":{}}`), key).toMatchObject({ ok: false, error: 'BAD_ENVELOPE', id: 'p3' });
      expect(decode(`id=p4 exec ls ${key}=1`), key).toMatchObject({ ok: false, error: 'BAD_ARGS', id: 'p4' });
    }
  });

  it('never throws, whatever the bytes', () => {
    for (const s of ['', ' ', '{', '[', '{"v":{"v":{}}}', '{"cmd":"x","v":[1]}', '\u0000', '"', '"a']) {
      expect(() => decode(s)).not.toThrow();
    }
    expect(decode('{"cmd":"ping","v":{"a":1}}')).toMatchObject({ ok: false, error: 'UNSUPPORTED_VERSION', message: expect.stringContaining('an object') });
  });
});
