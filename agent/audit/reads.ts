// Audit queries one at a time. A query streams the whole log (up to 8 files of 8 MiB) from disk, and
// `audit` runs at once, beside everything else ([cp-dispatch-4]): concurrent ones would each read
// 64 MiB at the same time, competing for libuv's four file threads with every other job. The queue
// behind the one running is bounded; past it a query is refused with BUSY [cp-audit-1].
import { Lane } from '../jobs/lane.js';
import { CommandError } from '../registry.js';
import type { AuditQuery } from './query.js';
import type { AuditRecord } from '../../protocol/audit.js';

/** Audit queries that may wait behind the running one. */
export const AUDIT_QUEUE = 8;

export class AuditReads {
  private readonly lane = new Lane(1);

  constructor(private readonly query: (q: AuditQuery) => Promise<AuditRecord[]>) {}

  run(q: AuditQuery): Promise<AuditRecord[]> {
    if (this.lane.queued >= AUDIT_QUEUE) {
      return Promise.reject(new CommandError('BUSY', `BUSY: ${AUDIT_QUEUE} audit queries are waiting already; ask again later`));
    }
    return this.lane.run(() => this.query(q));
  }
}
