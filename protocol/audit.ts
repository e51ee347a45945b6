// Audit records [cp-audit-*]: what an agent decided about each command and how each job ended,
// hash-chained so a removed or edited record shows. Shared because the `audit` command ships them
// and a controller verifies the chain without importing agent code.
import { createHash, hash } from 'node:crypto';
import { z } from 'zod';
import { lazySchema } from './lazy-schema.js';

/** What the agent reports: a decision before a command runs, an outcome when it ends. */
export interface AuditEntry {
  kind: 'decision' | 'outcome';
  /** decision: whether the command may run. */
  accepted?: boolean;
  /** Key id of the verified signature; absent for unsigned commands. */
  kid?: string;
  /** The envelope's `from` (a controller id); as claimed, not verified. */
  from?: string;
  cmd: string;
  /** sha256 (hex) of the command's args and opts: what ran, without storing secrets or file data. */
  digest?: string;
  /** What the command acts on: a path, a program. */
  target?: string;
  /** The policy rule that admitted it. */
  rule?: string;
  /** decision: ALLOWED or the refusal's error code; outcome: OK or the job's error code. */
  code: string;
  durationMs?: number;
  job?: string;
}

/** A stored record [cp-audit-2]; fields appear in this order, absent ones omitted. */
export const AuditRecordSchema = lazySchema(() => z.object({
  seq: z.number().int().positive(),
  ts: z.number().int(),
  kind: z.enum(['decision', 'outcome']),
  accepted: z.boolean().optional(),
  kid: z.string().optional(),
  from: z.string().optional(),
  cmd: z.string(),
  digest: z.string().optional(),
  target: z.string().optional(),
  rule: z.string().optional(),
  code: z.string(),
  durationMs: z.number().optional(),
  job: z.string().optional(),
  /** Hash of the record before (64 zeros for the very first). */
  prev: z.string().regex(/^[0-9a-f]{64}$/),
  /** sha256 (hex) of this record's JSON without `hash`, in the field order written [cp-audit-3]. */
  hash: z.string().regex(/^[0-9a-f]{64}$/),
}));
export type AuditRecord = z.infer<typeof AuditRecordSchema>;

export const GENESIS = '0'.repeat(64);

/** Longest value kept per text field; a record is a few hundred bytes whatever a sender puts in. */
const FIELD_MAX = { from: 128, cmd: 64, target: 512, rule: 64, code: 32, kid: 64, job: 64 } as const;

const cut = (s: string | undefined, max: number) => (s === undefined || s.length <= max ? s : `${s.slice(0, max - 1)}…`);

/** Strings shorter than this are hashed through JSON.stringify: the check below only pays off on long ones. */
const PLAIN_MIN = 1024;

/** ASCII with nothing JSON.stringify escapes: its JSON text is the string between quotes. */
function plain(s: string): boolean {
  return s.length >= PLAIN_MIN && Buffer.byteLength(s) === s.length && !/[\x00-\x1f"\\]/.test(s);
}

/**
 * sha256 of `JSON.stringify({args, opts})` [cp-audit-2], hashed piece by piece: a long plain
 * argument (a `put` chunk's base64) goes into the hash as it is instead of being copied into a
 * 350 kB JSON text first; the bytes hashed are the same.
 */
export function digestOf(args: unknown, opts: unknown): string {
  // One-shot hashing of the whole text when nothing is long: every command pays this before it runs.
  if (!Array.isArray(args) || !args.some((a) => typeof a === 'string' && plain(a))) return hashOf(JSON.stringify({ args, opts }));
  const h = createHash('sha256');
  h.update('{"args":[');
  args.forEach((a, i) => {
    if (i > 0) h.update(',');
    if (typeof a === 'string' && plain(a)) h.update('"').update(a, 'latin1').update('"');
    else h.update(JSON.stringify(a) ?? 'null');
  });
  h.update(']');
  const o = JSON.stringify(opts);
  if (o !== undefined) h.update(',"opts":').update(o);
  return h.update('}').digest('hex');
}

/** Builds the record in its fixed field order and seals it with its hash. */
export function seal(e: AuditEntry, seq: number, ts: number, prev: string): AuditRecord {
  return sealed(e, seq, ts, prev).record;
}

/**
 * The sealed record and its JSON text: the text hashed, with `hash` added as its last field. The log
 * writes this text; serialising the record a second time was a third of an append's cost.
 */
export function sealed(e: AuditEntry, seq: number, ts: number, prev: string): { record: AuditRecord; json: string } {
  const body = {
    seq,
    ts,
    kind: e.kind,
    accepted: e.accepted,
    kid: cut(e.kid, FIELD_MAX.kid),
    from: cut(e.from, FIELD_MAX.from),
    cmd: cut(e.cmd, FIELD_MAX.cmd)!,
    digest: e.digest,
    target: cut(e.target, FIELD_MAX.target),
    rule: cut(e.rule, FIELD_MAX.rule),
    code: cut(e.code, FIELD_MAX.code)!,
    durationMs: e.durationMs,
    job: cut(e.job, FIELD_MAX.job),
    prev,
  };
  const text = JSON.stringify(body);
  const hash = hashOf(text);
  // JSON.stringify({ ...body, hash }): the same text with one more field at the end.
  return { record: { ...body, hash }, json: `${text.slice(0, -1)},"hash":"${hash}"}` };
}

/** sha256 (hex) of the text; crypto.hash (Node ≥ 20.12) skips the Hash object, ≈ half the cost for a record. */
export function hashOf(text: string): string {
  return hash('sha256', text, 'hex');
}

/**
 * The hash a record should carry [cp-audit-3]: sha256 of its JSON without `hash`, keys in the
 * order received (JSON.parse keeps it). Pass the record as parsed, not after a schema rebuilt it.
 */
export function expectedHash(rec: Record<string, unknown>): string {
  const { hash: _hash, ...body } = rec;
  return hashOf(JSON.stringify(body));
}

/**
 * Checks a run of consecutive records as an `audit` result returns them [cp-audit-4]: each matches
 * its hash and chains to the one before. Returns the first problem, or undefined when intact.
 */
export function chainProblem(records: readonly Record<string, unknown>[]): string | undefined {
  let before: Record<string, unknown> | undefined;
  for (const r of records) {
    if (expectedHash(r) !== r.hash) return `record ${String(r.seq)} does not match its hash: altered`;
    if (before && r.seq !== (before.seq as number) + 1) return `records between ${String(before.seq)} and ${String(r.seq)} are missing`;
    if (before && r.prev !== before.hash) return `record ${String(before.seq)} was altered (record ${String(r.seq)} does not chain to it)`;
    before = r;
  }
  return undefined;
}
