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
  return write(value, [], profile);
}

// Every signed command and terminal event passes through here (a ping's result on the agent, again
// on the controller): the path that names a bad value is kept as a stack of keys and joined only
// when an error needs it, instead of a string built for every key and item.
function write(v: unknown, path: string[], profile: CanonicalProfile): string {
  if (v === null || typeof v === 'boolean') return String(v);
  if (typeof v === 'number') return number(v, path, profile);
  if (typeof v === 'string') return string(v, path, profile);
  if (Array.isArray(v)) {
    let out = '[';
    for (let i = 0; i < v.length; i++) {
      if (i) out += ',';
      path.push(String(i));
      out += write(v[i], path, profile);
      path.pop();
    }
    return out + ']';
  }
  if (typeof v === 'object' && (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null)) {
    // JCS sorts by UTF-16 code units, which is what Array.prototype.sort does with no comparator.
    const keys = Object.keys(v).sort();
    let out = '{';
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      path.push(k);
      if (profile === 'portable' && ASTRAL.test(k)) {
        // Python sorts by code point, JCS by UTF-16 unit: they disagree on such keys.
        throw new CanonicalFormError(path.join('.'), 'an object key with a character above U+FFFF has no portable order; use ASCII keys');
      }
      if (i) out += ',';
      out += `${string(k, path, profile)}:${write((v as Record<string, unknown>)[k], path, profile)}`;
      path.pop();
    }
    return out + '}';
  }
  throw new CanonicalFormError(path.join('.'), `${v === undefined ? 'undefined' : typeof v} is not a JSON value`);
}

function number(n: number, path: string[], profile: CanonicalProfile): string {
  if (!Number.isFinite(n)) throw new CanonicalFormError(path.join('.'), `${n} is not a JSON number`);
  if (profile === 'portable' && !Number.isSafeInteger(n)) {
    // Python writes 1.0 / 1e-07 where ECMAScript writes 1 / 1e-7, and parses big integers exactly.
    throw new CanonicalFormError(path.join('.'), `${n} is not an integer within ±(2^53-1); a signed command carries other numbers as strings`);
  }
  return JSON.stringify(n); // ECMAScript Number-to-String: RFC 8785 section 3.2.2.3; -0 becomes 0
}

function string(s: string, path: string[], profile: CanonicalProfile): string {
  if (profile === 'portable' && LONE_SURROGATE.test(s)) {
    throw new CanonicalFormError(path.join('.'), 'a string with a lone UTF-16 surrogate cannot be encoded as UTF-8');
  }
  // JSON.stringify escapes exactly ", \, and U+0000..U+001F (\b \t \n \f \r, else \u00xx), as JCS and Python do.
  return JSON.stringify(s);
}
