// Two checks on untrusted JSON that zod cannot make: how deep it nests, and whether it uses a key that
// names the prototype. Deep nesting makes every recursive consumer (zod, JSON.stringify, a handler)
// overflow the stack with a RangeError; `__proto__` is silently swallowed by ordinary assignment
// (it sets the prototype instead of a key) while `constructor` is an ordinary key, so the two were
// treated differently — prototype pollution in the making (CWE-1321). Both are refused up front.
import { MAX_JSON_DEPTH } from './limits.js';

/** Keys refused in every object of a payload: envelope, args and opts alike [cp-env-11]. */
export const PROTOTYPE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** The deepest nesting of `[`/`{` in JSON text, counted without parsing; stops once past `limit`. */
export function jsonDepth(text: string, limit = MAX_JSON_DEPTH): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  let backslash = -1; // next backslash at or after i, once looked up
  for (let i = 0; i < text.length; i++) {
    if (inString) {
      // Jump to the string's end with indexOf (native): a put chunk is one 175 kB string.
      const quote = text.indexOf('"', i);
      if (quote < 0) return max;
      if (backslash < i) {
        backslash = text.indexOf('\\', i);
        if (backslash < 0) backslash = text.length;
      }
      if (backslash < quote) i = backslash + 1; // skip the escaped character
      else {
        i = quote;
        inString = false;
      }
      continue;
    }
    const c = text.charCodeAt(i);
    if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max && (max = depth) > limit) return max;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

/** The path (`opts.__proto__`) of the first prototype-named key in `value`, or undefined. Depth must already be bounded. */
export function prototypeKeyPath(value: unknown, path: string[] = []): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const hit = prototypeKeyPath(value[i], [...path, String(i)]);
      if (hit) return hit;
    }
    return undefined;
  }
  for (const key of Object.keys(value)) {
    if (PROTOTYPE_KEYS.has(key)) return [...path, key].join('.');
    const hit = prototypeKeyPath((value as Record<string, unknown>)[key], [...path, key]);
    if (hit) return hit;
  }
  return undefined;
}
