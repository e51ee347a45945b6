// Argument schemas shared by the built-in commands. Plain-text commands turn unquoted numbers into
// numbers and `true`/`false` into booleans (protocol/text.ts rule 4), JSON senders may quote them:
// both forms are accepted here, once, at the edge — and nothing looser (no "false" → true coercion).
import { z } from 'zod';
import { lazySchema } from '../../protocol/lazy-schema.js';

/** A string positional; a number (unquoted `42` in text form) becomes its decimal string. */
export function str(name: string) {
  return z.preprocess(
    (v) => (typeof v === 'number' ? String(v) : v),
    z.string({ error: (iss) => (iss.input === undefined ? `${name} is required` : `${name} must be a string`) }),
  );
}

/** A non-empty string positional (paths, job ids, program names). */
export function name(label: string) {
  return z.preprocess(
    (v) => (typeof v === 'number' ? String(v) : v),
    z
      .string({ error: (iss) => (iss.input === undefined ? `${label} is required` : `${label} must be a string`) })
      .min(1, `${label} must not be empty`),
  );
}

/** A boolean option: true/false, or the strings "true"/"false" from JSON senders. */
export const flag = lazySchema(() => z
  .preprocess((v) => (v === 'true' ? true : v === 'false' ? false : v), z.boolean({ error: 'must be true or false' }))
  .optional());

/** A non-negative integer: a number, or a decimal string. */
export function count(label: string, max = Number.MAX_SAFE_INTEGER) {
  return z.preprocess(
    (v) => (typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v),
    z
      .number({ error: `${label} must be a non-negative integer` })
      .int(`${label} must be an integer`)
      .nonnegative(`${label} must not be negative`)
      .max(max, `${label} must be at most ${max}`),
  );
}

/** How a string of data is turned into bytes. */
export const encoding = lazySchema(() => z.enum(['utf8', 'base64'], { error: 'encoding must be utf8 or base64' }).optional());

const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

/** Decodes command data; base64 is checked strictly, since Buffer.from silently skips bad characters. */
export function decodeData(data: string, enc: 'utf8' | 'base64' | undefined): Buffer | undefined {
  if (enc !== 'base64') return Buffer.from(data, 'utf8');
  // Fast path for what senders produce (a put chunk): data that is its own canonical encoding is
  // valid, checked in native code; anything else takes the strict regex below (8× slower per byte).
  const bytes = Buffer.from(data, 'base64');
  const canonical = bytes.toString('base64');
  if (data === canonical || data === canonical.replace(/=+$/, '')) return bytes;
  const compact = data.replace(/\s+/g, '');
  if (compact.length % 4 === 1 || !BASE64_RE.test(compact)) return undefined;
  return Buffer.from(compact, 'base64');
}
