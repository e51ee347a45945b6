// The command envelope checked by hand on the hot path: zod's walk of CommandSchema cost ≈ 27 µs of
// the agent's ≈ 0.2 ms per command and as much again in the controller (CPU profile of
// `npm run bench -- roundtrip`). The hand check only ever *accepts*: it returns exactly what
// CommandSchema would (same keys, same order, defaults applied, arrays and objects copied), and
// anything it is unsure of goes to zod, which decides and words the error. So the rules stay
// written once, in command.ts; test/protocol/envelope-check.test.ts holds both to the same answers.
import type { z } from 'zod';
import { CommandSchema, type Command } from './command.js';
import { OUTPUT_ENCODINGS } from './frames.js';
import { PROTOTYPE_KEYS } from './json-guard.js';
import { MAX_TTL_MS } from './limits.js';
import { JOB_ID_RE } from './names.js';
import { signatureOf } from './signature.js';

/** What `CommandSchema.safeParse` returns, so callers swap one for the other. */
export type CommandCheck = { success: true; data: Command } | { success: false; error: z.ZodError };

const str = (min: number, max: number) => (v: unknown) => typeof v === 'string' && v.length >= min && v.length <= max;
const matching = (re: RegExp) => (v: unknown) => typeof v === 'string' && re.test(v);
const safeInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);
const plainObject = (v: unknown): v is Record<string, unknown> => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
};

// CommandSchema's rules, field by field.
const isCmd = str(1, 64);
const isV = (v: unknown) => v === 1;
const isId = matching(JOB_ID_RE);
const isFrom = str(0, 128);
const isSentAt = (v: unknown) => safeInt(v) && v >= 0;
const isTtl = (v: unknown) => safeInt(v) && v > 0 && v <= MAX_TTL_MS;
const isTimeout = (v: unknown) => safeInt(v) && v > 0;
const isCwd = str(1, 4096);
const isBool = (v: unknown) => typeof v === 'boolean';
const isOut = (v: unknown) => (OUTPUT_ENCODINGS as readonly unknown[]).includes(v);
const isTarget = str(1, 1024);

/**
 * CommandSchema's keys in its order, in which zod writes its output; written out rather than read
 * from the schema so that importing this module builds no schema (a test compares the two).
 */
export const ENVELOPE_KEY_ORDER = ['v', 'id', 'cmd', 'args', 'opts', 'from', 'sentAt', 'ttlMs', 'timeoutMs', 'cwd', 'session', 'fold', 'out', 'data', 'target', 'sig'] as const;
const KNOWN: ReadonlySet<string> = new Set(ENVELOPE_KEY_ORDER);

/**
 * The envelope as CommandSchema's output, or undefined when the hand check cannot vouch for it
 * (invalid, or unusual: a class instance, a non-enumerable or prototype-named key). Written out
 * field by field, in CommandSchema's order: a loop over the keys cost as much as zod saved.
 */
export function fastCommand(raw: unknown): Command | undefined {
  if (!plainObject(raw)) return undefined;
  for (const k in raw) if (!KNOWN.has(k)) return undefined; // [cp-env-10], found as zod finds them
  // A command frame's header ([cp-cmdframe-3]): one per upload chunk of up to 448 KiB, where zod's
  // walk is noise; zod checks it.
  if ('data' in raw) return undefined;
  if (!isCmd(raw.cmd)) return undefined;
  const out: Record<string, unknown> = {};
  if (!copy(out, raw, 'v', isV) || !copy(out, raw, 'id', isId)) return undefined;
  out.cmd = raw.cmd;
  const args = raw.args === undefined ? [] : copyArray(raw.args);
  const opts = raw.opts === undefined ? {} : copyRecord(raw.opts);
  if (!args || !opts) return undefined;
  out.args = args;
  out.opts = opts;
  if (
    !copy(out, raw, 'from', isFrom) ||
    !copy(out, raw, 'sentAt', isSentAt) ||
    !copy(out, raw, 'ttlMs', isTtl) ||
    !copy(out, raw, 'timeoutMs', isTimeout) ||
    !copy(out, raw, 'cwd', isCwd) ||
    !copy(out, raw, 'session', isId) ||
    !copy(out, raw, 'fold', isBool) ||
    !copy(out, raw, 'out', isOut) ||
    !copy(out, raw, 'target', isTarget)
  ) {
    return undefined;
  }
  if ('sig' in raw) {
    const sig = raw.sig === undefined ? undefined : signatureOf(raw.sig);
    if (raw.sig !== undefined && !sig) return undefined;
    out.sig = sig;
  }
  return out as Command;
}

/** An optional field: absent stays absent, present (undefined too, as zod keeps it) is copied when valid. */
function copy(out: Record<string, unknown>, raw: Record<string, unknown>, key: string, ok: (v: unknown) => boolean): boolean {
  if (!(key in raw)) return true;
  const v = raw[key];
  if (v !== undefined && !ok(v)) return false;
  out[key] = v;
  return true;
}

/** `CommandSchema.safeParse`, through the hand check first. */
export function checkCommand(raw: unknown): CommandCheck {
  const fast = fastCommand(raw);
  return fast ? { success: true, data: fast } : CommandSchema.safeParse(raw);
}

function copyArray(a: unknown): unknown[] | undefined {
  if (!Array.isArray(a) || a.length > 4096) return undefined;
  const out = new Array<unknown>(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i];
  return out;
}

/** zod's record copies enumerable own keys and skips `__proto__`: a key zod would treat apart is left to zod. */
function copyRecord(v: unknown): Record<string, unknown> | undefined {
  if (!plainObject(v)) return undefined;
  const out: Record<string, unknown> = {};
  for (const k of Reflect.ownKeys(v)) {
    if (typeof k !== 'string' || PROTOTYPE_KEYS.has(k) || !Object.prototype.propertyIsEnumerable.call(v, k)) return undefined;
    out[k] = v[k];
  }
  return out;
}
