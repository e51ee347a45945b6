// Reading the audit log back: records by time range, key and job, oldest first, bounded.
import { streamLines } from './files.js';
import type { AuditRecord } from '../../protocol/audit.js';

export interface AuditQuery {
  /** Inclusive bounds, epoch ms. */
  since?: number;
  until?: number;
  kid?: string;
  job?: string;
  /** Records from this seq on (paging through a long log). */
  fromSeq?: number;
  /** At most this many records (default 1000): an answer is bounded like everything else. */
  limit?: number;
}

export async function queryAudit(dir: string, q: AuditQuery = {}): Promise<AuditRecord[]> {
  const limit = q.limit ?? 1000;
  const out: AuditRecord[] = [];
  for await (const { record: r } of streamLines(dir, q.fromSeq)) {
    if (!r) continue;
    if (q.since !== undefined && r.ts < q.since) continue;
    if (q.until !== undefined && r.ts > q.until) continue;
    if (q.kid !== undefined && r.kid !== q.kid) continue;
    if (q.job !== undefined && r.job !== q.job) continue;
    if (q.fromSeq !== undefined && r.seq < q.fromSeq) continue;
    out.push(r);
    if (out.length >= limit) break;
  }
  return out;
}
