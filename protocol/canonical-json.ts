// Canonical JSON (RFC 8785, JCS): the exact bytes a signature covers. Two profiles:
// - 'portable' (signed commands): every number a safe integer, no lone surrogate in a string, no
//   character above U+FFFF in an object key. Inside it the bytes equal Python's
//   json.dumps(obj, sort_keys=True, separators=(',', ':'), ensure_ascii=False).encode(), so a
//   Python or Node-RED client can sign without a JCS library (topics.md [cp-sig-3]).
// - 'jcs' (signed events, written by our agent): any finite number, formatted as ECMAScript does,
//   which is what RFC 8785 section 3.2.2.3 prescribes.

export type CanonicalProfile = 'portable' | 'jcs';

/** A value that has no canonical form in the profile; `path` names where (`args.0`, `opts.env.X`). */
export class CanonicalFormError extends TypeError {
  override name = 'CanonicalFormError';
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(`${path || '(value)'}: ${reason}`);
  }
}

// With the u flag a well-formed surrogate pair is one code point, so only lone halves match.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;
const ASTRAL = /[\u{10000}-\u{10FFFF}]/u;

/** The canonical JSON text of a JSON value (objects, arrays, strings, numbers, booleans, null). */
export function canonicalJson(value: unknown, profile: CanonicalProfile): string {
  const out: string[] = [];
  write(value, '', profile, out);
  return out.join('');
}

function write(v: unknown, path: string, profile: CanonicalProfile, out: string[]): void {
  if (v === null || typeof v === 'boolean') {
    out.push(String(v));
  } else if (typeof v === 'number') {
    out.push(number(v, path, profile));
  } else if (typeof v === 'string') {
    out.push(string(v, path, profile));
  } else if (Array.isArray(v)) {
    out.push('[');
    v.forEach((item, i) => {
      if (i) out.push(',');
      write(item, join(path, String(i)), profile, out);
    });
    out.push(']');
  } else if (typeof v === 'object' && (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null)) {
    // JCS sorts by UTF-16 code units, which is what Array.prototype.sort does with no comparator.
    const keys = Object.keys(v).sort();
    out.push('{');
    keys.forEach((k, i) => {
      const p = join(path, k);
      if (profile === 'portable' && ASTRAL.test(k)) {
        // Python sorts by code point, JCS by UTF-16 unit: they disagree on such keys.
        throw new CanonicalFormError(p, 'an object key with a character above U+FFFF has no portable order; use ASCII keys');
      }
      if (i) out.push(',');
      out.push(string(k, p, profile), ':');
      write((v as Record<string, unknown>)[k], p, profile, out);
    });
    out.push('}');
  } else {
    throw new CanonicalFormError(path, `${v === undefined ? 'undefined' : typeof v} is not a JSON value`);
  }
}

function number(n: number, path: string, profile: CanonicalProfile): string {
  if (!Number.isFinite(n)) throw new CanonicalFormError(path, `${n} is not a JSON number`);
  if (profile === 'portable' && !Number.isSafeInteger(n)) {
    // Python writes 1.0 / 1e-07 where ECMAScript writes 1 / 1e-7, and parses big integers exactly.
    throw new CanonicalFormError(path, `${n} is not an integer within ±(2^53-1); a signed command carries other numbers as strings`);
  }
  return JSON.stringify(n); // ECMAScript Number-to-String: RFC 8785 section 3.2.2.3; -0 becomes 0
}

function string(s: string, path: string, profile: CanonicalProfile): string {
  if (profile === 'portable' && LONE_SURROGATE.test(s)) {
    throw new CanonicalFormError(path, 'a string with a lone UTF-16 surrogate cannot be encoded as UTF-8');
  }
  // JSON.stringify escapes exactly ", \, and U+0000..U+001F (\b \t \n \f \r, else \u00xx), as JCS and Python do.
  return JSON.stringify(s);
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}
