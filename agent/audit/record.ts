// One audit record: what was decided about which command from whom, chained to the record before
// it by hash, so removing or editing a line breaks the chain where it happened.
import { createHash } from 'node:crypto';

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
  /** decision: ALLOWED, DENIED or BUSY; outcome: OK or the job's error code. */
  code: string;
  durationMs?: number;
  job?: string;
}

export interface AuditRecord extends AuditEntry {
  seq: number;
  ts: number;
  /** Hash of the record before (64 zeros for the very first). */
  prev: string;
  /** sha256 of this record's JSON without `hash`, in the field order written. */
  hash: string;
}

export const GENESIS = '0'.repeat(64);

/** Longest value kept per text field; a record is a few hundred bytes whatever a sender puts in. */
const FIELD_MAX = { from: 128, cmd: 64, target: 512, rule: 64, code: 32, kid: 64, job: 64 } as const;

const cut = (s: string | undefined, max: number) => (s === undefined || s.length <= max ? s : `${s.slice(0, max - 1)}…`);

/** sha256 of args and opts as JSON. */
export function digestOf(args: unknown, opts: unknown): string {
  return createHash('sha256').update(JSON.stringify({ args, opts })).digest('hex');
}

/** Builds the record in its fixed field order and seals it with its hash. */
export function seal(e: AuditEntry, seq: number, ts: number, prev: string): AuditRecord {
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
  return { ...body, hash: hashOf(JSON.stringify(body)) };
}

export function hashOf(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The hash a stored line should carry: its JSON without `hash`, in the order it was written. */
export function expectedHash(rec: Record<string, unknown>): string {
  const { hash: _hash, ...body } = rec;
  return hashOf(JSON.stringify(body));
}
