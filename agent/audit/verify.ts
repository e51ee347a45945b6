// Checks the hash chain and names the first record removed or altered. A gap in seq is a removal;
// a record whose hash does not match its content, or whose successor does not point at it, was
// altered. The oldest kept record's `prev` cannot be checked (its predecessor was rotated away),
// and removing the newest records leaves no trace here: ship the log off the host for that.
import { lines } from './files.js';
import { expectedHash, type AuditRecord } from '../../protocol/audit.js';

export type VerifyResult =
  | { ok: true; records: number; firstSeq?: number; lastSeq?: number }
  | { ok: false; problem: 'removed' | 'altered'; seq: number; file: string; line: number; message: string };

export function verifyAudit(dir: string): VerifyResult {
  let before: AuditRecord | undefined;
  let count = 0;
  let firstSeq: number | undefined;
  for (const l of lines(dir)) {
    const where = { file: l.file, line: l.line };
    const r = l.record;
    const expectSeq = before ? before.seq + 1 : undefined;
    if (!r) {
      const seq = expectSeq ?? 0;
      return { ok: false, problem: 'altered', seq, ...where, message: `record ${seq} (${l.file}:${l.line}) is not a readable record: altered` };
    }
    if (expectedHash(r as unknown as Record<string, unknown>) !== r.hash) {
      return { ok: false, problem: 'altered', seq: r.seq, ...where, message: `record ${r.seq} (${l.file}:${l.line}) does not match its hash: altered` };
    }
    if (before && r.seq !== before.seq + 1) {
      const missing = before.seq + 1;
      const span = r.seq - 1 > missing ? `records ${missing}-${r.seq - 1}` : `record ${missing}`;
      return { ok: false, problem: 'removed', seq: missing, ...where, message: `${span} removed (next present: ${r.seq} at ${l.file}:${l.line})` };
    }
    if (before && r.prev !== before.hash) {
      // Content and seq fit but the link does not: the record before was rewritten with a fresh hash.
      return { ok: false, problem: 'altered', seq: before.seq, ...where, message: `record ${before.seq} was altered (record ${r.seq} does not chain to it)` };
    }
    firstSeq ??= r.seq;
    before = r;
    count++;
  }
  return { ok: true, records: count, firstSeq, lastSeq: before?.seq };
}
