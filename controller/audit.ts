// Reading a host's audit log with its `audit` command [cp-audit-1], page after page, and checking
// the hash chain of what came back [cp-audit-4]. The records are kept exactly as parsed: their
// hashes cover the JSON text in the order the agent wrote it [cp-audit-3].
import { chainProblem, expectedHash } from '../protocol/index.js';
import type { HostResult } from './collect.js';
import { ControllerError } from './errors.js';
import type { Fleet } from './fleet.js';

export interface AuditFilter {
  /** Epoch ms, inclusive bounds on the record's `ts`. */
  since?: number;
  until?: number;
  /** Key id that signed the command. */
  kid?: string;
  job?: string;
  /** First seq to return (records with seq ≥ it). */
  fromSeq?: number;
}

export interface AuditPage {
  /** Records oldest first, as the host sent them. */
  records: Record<string, unknown>[];
  /** More records match than were fetched (the limit was reached). */
  more: boolean;
  /** The host's answer when it was not a list of records (refused, offline, forged…). */
  failure?: HostResult;
}

/** Most records asked for in one `audit` command (the agent's own cap). */
const PAGE_MAX = 1000;

/**
 * Fetches up to `limit` records matching `filter` from one host, following `nextSeq` across pages.
 * @example
 * const { records } = await fetchAudit(fleet, 'web-1', { job: 'j1' }, 50);
 */
export async function fetchAudit(fleet: Fleet, host: string, filter: AuditFilter = {}, limit = 100): Promise<AuditPage> {
  if (!Number.isInteger(limit) || limit < 1) throw new ControllerError('BAD_OPTION', `limit must be a positive integer, got ${limit}`);
  const records: Record<string, unknown>[] = [];
  let fromSeq = filter.fromSeq;
  // Every page but the last brings at least one record, so this ends; the bound is a guard.
  for (let page = 0; page <= limit && records.length < limit; page++) {
    const opts = { ...filter, ...(fromSeq !== undefined ? { fromSeq } : {}), limit: Math.min(PAGE_MAX, limit - records.length) };
    const [r] = await fleet.run([host], 'audit', [], { opts, waitMs: 30_000 }).done();
    const value = r?.value as { records?: unknown; more?: unknown; nextSeq?: unknown } | undefined;
    if (!r || r.state !== 'ok' || !Array.isArray(value?.records)) return { records, more: false, failure: r };
    records.push(...(value.records as Record<string, unknown>[]));
    const next = typeof value.nextSeq === 'number' ? value.nextSeq : undefined;
    if (value.more !== true || next === undefined || value.records.length === 0) return { records, more: false };
    fromSeq = next;
  }
  return { records, more: true };
}

/**
 * The first problem in the records, or undefined when intact [cp-audit-4]. A filtered answer skips
 * records by design, so only each record's own hash is checked there; an unfiltered one must also
 * chain (consecutive seqs, each `prev` the hash before it).
 */
export function auditProblem(records: readonly Record<string, unknown>[], filtered: boolean): string | undefined {
  if (!filtered) return chainProblem(records);
  const bad = records.find((r) => expectedHash(r) !== r.hash);
  return bad ? `record ${String(bad.seq)} does not match its hash: altered` : undefined;
}
