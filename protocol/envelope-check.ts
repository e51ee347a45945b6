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
import { KEY_ID_RE } from './keys.js';
import { MAX_TTL_MS } from './limits.js';
import { JOB_ID_RE } from './names.js';
import { SIGNATURE_VALUE_RE } from './signature.js';

/** What `CommandSchema.safeParse` returns, so callers swap one for the other. */
export type CommandCheck = { success: true; data: Command } | { success: false; error: z.ZodError };

const optional = (v: unknown, ok: (v: unknown) => boolean) => v === undefined || ok(v);
const str = (min: number, max: number) => (v: unknown) => typeof v === 'string' && v.length >= min && v.length <= max;
const matching = (re: RegExp) => (v: unknown) => typeof v === 'string' && re.test(v);
const safeInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);
const plainObject = (v: unknown): v is Record<string, unknown> => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
};

/** Each optional scalar field of the envelope and its rule, as in CommandSchema. */
const SCALARS: Record<string, (v: unknown) => boolean> = {
  v: (v) => v === 1,
  id: matching(JOB_ID_RE),
  from: str(0, 128),
  sentAt: (v) => safeInt(v) && v >= 0,
  ttlMs: (v) => safeInt(v) && v > 0 && v <= MAX_TTL_MS,
  timeoutMs: (v) => safeInt(v) && v > 0,
  cwd: str(1, 4096),
  session: matching(JOB_ID_RE),
  fold: (v) => typeof v === 'boolean',
  out: (v) => (OUTPUT_ENCODINGS as readonly unknown[]).includes(v),
  target: str(1, 1024),
};

/**
 * CommandSchema's keys in its order, in which zod writes its output; written out rather than read
 * from the schema so that importing this module builds no schema (a test compares the two).
 */
export const ENVELOPE_KEY_ORDER = ['v', 'id', 'cmd', 'args', 'opts', 'from', 'sentAt', 'ttlMs', 'timeoutMs', 'cwd', 'session', 'fold', 'out', 'target', 'sig'] as const;
const ORDER: readonly string[] = ENVELOPE_KEY_ORDER;
const KNOWN: ReadonlySet<string> = new Set(ORDER);

/**
 * The envelope as CommandSchema's output, or undefined when the hand check cannot vouch for it
 * (invalid, or unusual: a getter, a class instance, a prototype-named key).
 */
export function fastCommand(raw: unknown): Command | undefined {
  if (!plainObject(raw)) return undefined;
  const keys = Reflect.ownKeys(raw);
  for (const k of keys) if (typeof k !== 'string' || !KNOWN.has(k)) return undefined; // [cp-env-10]
  if (!str(1, 64)(raw.cmd)) return undefined;
  const out: Record<string, unknown> = {};
  for (const k of ORDER) {
    const present = Object.hasOwn(raw, k);
    const v = raw[k];
    if (k === 'cmd') out.cmd = v;
    else if (k === 'args') {
      if (v === undefined) out.args = [];
      else if (!Array.isArray(v) || v.length > 4096) return undefined;
      else out.args = copyArray(v);
    } else if (k === 'opts') {
      if (v === undefined) out.opts = {};
      else {
        const opts = copyRecord(v);
        if (!opts) return undefined;
        out.opts = opts;
      }
    } else if (!present) continue;
    else if (k === 'sig') {
      if (v === undefined) out.sig = undefined;
      else {
        const sig = signature(v);
        if (!sig) return undefined;
        out.sig = sig;
      }
    } else if (!optional(v, SCALARS[k]!)) return undefined;
    else out[k] = v;
  }
  return out as Command;
}

/** `CommandSchema.safeParse`, through the hand check first. */
export function checkCommand(raw: unknown): CommandCheck {
  const fast = fastCommand(raw);
  return fast ? { success: true, data: fast } : CommandSchema.safeParse(raw);
}

function copyArray(a: readonly unknown[]): unknown[] {
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

function signature(v: unknown): { kid: string; value: string } | undefined {
  if (!plainObject(v)) return undefined;
  const keys = Reflect.ownKeys(v);
  if (keys.length !== 2 || !Object.hasOwn(v, 'kid') || !Object.hasOwn(v, 'value')) return undefined; // strict [cp-sig-2]
  if (!matching(KEY_ID_RE)(v.kid) || !matching(SIGNATURE_VALUE_RE)(v.value)) return undefined;
  return { kid: v.kid as string, value: v.value as string };
}
