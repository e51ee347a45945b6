// `conplyent audit HOST`: the host's audit log [cp-audit-*] as a table (or NDJSON), and with
// --verify the hash chain checked, naming the first record removed or altered.
import type { Command } from 'commander';
import { auditProblem, fetchAudit, type AuditFilter } from '../../controller/audit.js';
import { describeResult } from './outcome.js';
import { defineVerb, oneHost, UsageError, withFleet } from './common.js';
import { Exit, exitFor } from './exit-codes.js';
import { table } from './output.js';

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `30m`, `2h`, `7d` ago; an ISO date or time; or epoch milliseconds. */
export function parseWhen(text: string, what: string, now = Date.now()): number {
  const rel = /^(\d+)([smhd])$/.exec(text);
  if (rel) return now - Number(rel[1]) * UNITS[rel[2]!]!;
  if (/^\d{10,}$/.test(text)) return Number(text);
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw new UsageError(`${what} "${text}": expected 30m, 2h, 7d, an ISO date (2026-11-28T09:00:00Z) or epoch ms`);
  return t;
}

function positive(text: string | undefined, what: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[1-9]\d{0,6}$/.test(text)) throw new UsageError(`${what} "${text}": expected a whole number from 1 to 9999999`);
  return Number(text);
}

const str = (v: unknown) => (v === undefined ? '-' : String(v));

export function registerAudit(program: Command): void {
  defineVerb(program, 'audit <host>', "show a host's audit log: every command it accepted or refused and how each job ended", [
    'conplyent audit web-1',
    'conplyent audit web-1 --since 2h --kid QR85ItbJYgM-5W0j',
    'conplyent audit web-1 --verify --limit 10000',
    "conplyent audit web-1 --json | jq 'select(.accepted == false)'",
  ])
    .option('--since <when>', 'records from then on: 30m, 2h, 7d ago, an ISO date, or epoch ms')
    .option('--until <when>', 'records up to then (same forms)')
    // --kid, not --key: --key is the TLS client key of every verb.
    .option('--kid <kid>', 'only commands signed by this key id')
    .option('--job <id>', 'only records of this job')
    .option('--limit <n>', 'most records to fetch (default 100)')
    .option('--verify', 'check the hash chain; exit 5 and name the first record removed or altered when it is broken')
    .action(async (host: string, o: Record<string, string | boolean | undefined>, cmd: Command) => {
      await withFleet(cmd, host, async ({ fleet, out }) => {
        oneHost(cmd, host);
        const filter: AuditFilter = {
          ...(o.since ? { since: parseWhen(String(o.since), '--since') } : {}),
          ...(o.until ? { until: parseWhen(String(o.until), '--until') } : {}),
          ...(o.kid ? { kid: String(o.kid) } : {}),
          ...(o.job ? { job: String(o.job) } : {}),
        };
        const limit = positive(o.limit as string | undefined, '--limit') ?? 100;
        const page = await fetchAudit(fleet, host, filter, limit);
        if (page.failure) {
          if (out.json) out.ndjson({ type: 'final', ...page.failure, stdout: undefined, stderr: undefined });
          else out.stderr.write(`${host}: ${describeResult(page.failure)}\n`);
          return exitFor([page.failure]);
        }
        if (out.json) for (const r of page.records) out.ndjson({ type: 'audit', host, ...r });
        else if (page.records.length === 0) out.stderr.write(`${host}: no audit records match\n`);
        else {
          const rows = page.records.map((r) => [
            str(r.seq),
            new Date(Number(r.ts)).toISOString(),
            r.kind === 'decision' ? (r.accepted ? 'accepted' : 'refused') : 'ended',
            str(r.code),
            str(r.cmd),
            str(r.target).slice(0, 60),
            str(r.kid),
            str(r.from),
            str(r.job),
          ]);
          out.stdout.write(table([['SEQ', 'TIME', 'WHAT', 'CODE', 'CMD', 'TARGET', 'KID', 'FROM', 'JOB'].map((c) => out.style.bold(c)), ...rows]));
        }
        if (page.more && !out.json) out.stderr.write(`(more records match: raise --limit or narrow with --since/--job)\n`);
        if (!o.verify) return Exit.OK;
        const filtered = Object.keys(filter).length > 0;
        const problem = auditProblem(page.records, filtered);
        if (out.json) out.ndjson({ type: 'verify', host, ok: !problem, records: page.records.length, ...(problem ? { problem } : {}), scope: filtered ? 'hashes' : 'chain' });
        else if (problem) out.stderr.write(out.style.red(`${host}: audit log tampered with: ${problem}`) + '\n');
        else out.stderr.write(out.style.green(`${host}: ${page.records.length} records intact (${filtered ? 'each hash checked; filtered, so the chain is not' : 'hashes and chain checked'})`) + '\n');
        return problem ? Exit.FORGED : Exit.OK;
      });
    });
}
