// Host names, job ids and labels become topic levels or selector terms; a strict charset keeps
// wildcards and separators out ([cp-name-1], Mosquitto CVE-2017-7650).
import { MAX_NAME_LENGTH } from './limits.js';

/** Host names start with a letter or digit, so they can never equal the reserved `_all` level [cp-name-1]. */
export const HOST_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** Job ids: nanoid's alphabet plus dot; no `/ + # $`, no NUL [cp-name-2]. */
export const JOB_ID_RE = /^[A-Za-z0-9_.-]{1,64}$/;

/** Label keys and values: the same safe charset; keys start with a letter [cp-name-3]. */
export const LABEL_KEY_RE = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;
export const LABEL_VALUE_RE = /^[A-Za-z0-9_.-]{0,64}$/;

/** `all` selects the whole fleet in a target, so no host may be called that [cp-name-1]. */
export const RESERVED_HOST_NAMES: ReadonlySet<string> = new Set(['all']);

export function isHostName(s: unknown): s is string {
  return typeof s === 'string' && HOST_NAME_RE.test(s) && !RESERVED_HOST_NAMES.has(s);
}

export function isJobId(s: unknown): s is string {
  return typeof s === 'string' && JOB_ID_RE.test(s);
}

/** Turns an OS host name into a valid conplyent host name (lower case, unsafe characters to '-'). */
export function sanitizeHostName(raw: string): string {
  const cleaned = raw
    .toLowerCase()
    .replace(/[^a-z0-9_.-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, MAX_NAME_LENGTH);
  if (cleaned.length === 0) return 'host';
  return RESERVED_HOST_NAMES.has(cleaned) ? `${cleaned}-host` : cleaned;
}

/** Parses `key=value` pairs into a label map; throws a TypeError naming the bad pair. */
export function parseLabels(pairs: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const key = eq < 0 ? pair : pair.slice(0, eq);
    const value = eq < 0 ? '' : pair.slice(eq + 1);
    if (eq < 0 || !LABEL_KEY_RE.test(key) || !LABEL_VALUE_RE.test(value)) {
      throw new TypeError(`label "${pair}" must be key=value with key ${LABEL_KEY_RE} and value ${LABEL_VALUE_RE}`);
    }
    labels[key] = value;
  }
  return labels;
}
