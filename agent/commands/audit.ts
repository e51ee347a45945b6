// The `audit` command [cp-audit-1]: the agent's audit records, oldest first, filtered and bounded so
// the answer fits in one result event; `more` says to ask again from `nextSeq`.
import { z } from 'zod';
import { lazySchema } from '../../protocol/lazy-schema.js';
import { MAX_EVENT_BYTES, type AuditRecord } from '../../protocol/index.js';
import type { CommandRegistry } from '../registry.js';
import { count } from './schemas.js';

/** Most records one answer carries. */
export const MAX_AUDIT_LIMIT = 1000;
/** Room left in the result event for its other fields and the signature. */
const HEADROOM_BYTES = 8 * 1024;

const auditOpts = lazySchema(() => z
  .object({
    since: count('since').optional(),
    until: count('until').optional(),
    kid: z.string().max(64).optional(),
    job: z.string().max(64).optional(),
    fromSeq: count('fromSeq').optional(),
    limit: count('limit', MAX_AUDIT_LIMIT).optional(),
  })
  .strict());

export function registerAuditCommand(registry: CommandRegistry): void {
  registry.register(
    'foreground',
    'audit',
    async (ctx) => {
      const limit = ctx.opts.limit ?? 100;
      // One more than asked tells whether there is more.
      const found = await ctx.agent.audit({ ...ctx.opts, limit: limit + 1 });
      const records: AuditRecord[] = [];
      let bytes = 0;
      for (const r of found.slice(0, limit)) {
        bytes += JSON.stringify(r).length + 1;
        if (bytes > MAX_EVENT_BYTES - HEADROOM_BYTES) break;
        records.push(r);
      }
      const more = found.length > records.length;
      return { records, more, ...(more && records.length ? { nextSeq: records[records.length - 1].seq + 1 } : {}) };
    },
    {
      args: lazySchema(() => z.tuple([])),
      opts: auditOpts,
      usage: '[since=MS] [until=MS] [kid=KID] [job=ID] [fromSeq=N] [limit=N]',
      summary: `Returns audit records {records, more, nextSeq?}, oldest first; limit 1-${MAX_AUDIT_LIMIT} (default 100)`,
    },
  );
}
