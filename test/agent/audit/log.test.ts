// The audit log on real files: records chain by hash, rotation keeps the chain across files and a
// fixed number of files, and verify() names the record that was removed or altered.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../../agent/audit/log.js';
import { auditFiles } from '../../../agent/audit/files.js';
import { queryAudit } from '../../../agent/audit/query.js';
import { verifyAudit } from '../../../agent/audit/verify.js';
import { digestOf, GENESIS, type AuditEntry } from '../../../protocol/audit.js';

let dir: string;
let clock = 1_000;
const now = () => clock++;

beforeEach(() => {
  dir = join(mkdtempSync(join(tmpdir(), 'cp-audit-')), 'audit');
});
afterEach(() => rmSync(join(dir, '..'), { recursive: true, force: true }));

const decision = (i: number, over: Partial<AuditEntry> = {}): AuditEntry => ({
  kind: 'decision',
  accepted: true,
  kid: i % 2 ? 'AAAAAAAAAAAAAAAA' : 'BBBBBBBBBBBBBBBB',
  from: 'ctl-1',
  cmd: 'exec',
  digest: digestOf(['echo', String(i)], {}),
  target: 'echo',
  rule: 'deploy',
  code: 'ALLOWED',
  job: `job-${i}`,
  ...over,
});

function fill(log: AuditLog, n: number): void {
  for (let i = 1; i <= n; i++) log.append(decision(i));
}

/** Rewrites one stored line of the log (the file holding seq) through `edit`; null deletes it. */
function tamper(seq: number, edit: (line: string) => string | null): void {
  for (const file of auditFiles(dir)) {
    const rows = readFileSync(file, 'utf8').split('\n');
    const i = rows.findIndex((r) => r.startsWith(`{"seq":${seq},`));
    if (i < 0) continue;
    const next = edit(rows[i]);
    if (next === null) rows.splice(i, 1);
    else rows[i] = next;
    writeFileSync(file, rows.join('\n'));
    return;
  }
  throw new Error(`record ${seq} not found`);
}

describe('audit log', () => {
  it('chains every record to the one before, starting from the genesis hash', () => {
    const log = new AuditLog({ dir, now });
    const a = log.append(decision(1));
    const b = log.append({ kind: 'outcome', cmd: 'exec', code: 'OK', durationMs: 12, job: 'job-1' });
    log.close();
    expect(a).toMatchObject({ seq: 1, prev: GENESIS });
    expect(b).toMatchObject({ seq: 2, prev: a.hash, code: 'OK', durationMs: 12 });
    expect(verifyAudit(dir)).toEqual({ ok: true, records: 2, firstSeq: 1, lastSeq: 2 });
  });

  it('a closed log refuses an append instead of opening a new file behind the closed one', () => {
    const log = new AuditLog({ dir, now });
    log.append(decision(1));
    log.close();
    expect(() => log.append(decision(2))).toThrow(/closed/);
    expect(auditFiles(dir)).toHaveLength(1);
    expect(verifyAudit(dir)).toEqual({ ok: true, records: 1, firstSeq: 1, lastSeq: 1 });
  });

  it('a reopened log continues the chain and cuts a torn last line', () => {
    let log = new AuditLog({ dir, now });
    fill(log, 3);
    log.close();
    appendFileSync(auditFiles(dir)[0], '{"seq":4,"ts":'); // a write cut by power loss
    log = new AuditLog({ dir, now });
    expect(log.opened).toEqual({ lastSeq: 3, truncatedBytes: 14 });
    expect(log.append(decision(4)).seq).toBe(4);
    log.close();
    expect(verifyAudit(dir)).toMatchObject({ ok: true, records: 4 });
  });

  it('rotates by size into a fixed number of files, and the chain carries across files', async () => {
    const log = new AuditLog({ dir, now, maxBytes: 2_000, maxFiles: 3 });
    fill(log, 60);
    log.close();
    const files = auditFiles(dir);
    expect(files).toHaveLength(3);
    for (const f of files) expect(readFileSync(f).length).toBeLessThanOrEqual(2_000);
    const kept = await queryAudit(dir, { limit: 100 });
    expect(kept.at(-1)!.seq).toBe(60);
    // Paging from a seq inside the newest file, from a file's first record, and past the end.
    const firstOfNewest = Number(/audit\.(\d+)\.jsonl$/.exec(files[2])![1]);
    expect((await queryAudit(dir, { fromSeq: 59 })).map((r) => r.seq)).toEqual([59, 60]);
    expect((await queryAudit(dir, { fromSeq: firstOfNewest, limit: 1 })).map((r) => r.seq)).toEqual([firstOfNewest]);
    expect((await queryAudit(dir, { fromSeq: kept[0].seq })).map((r) => r.seq)).toEqual(kept.map((r) => r.seq));
    expect(await queryAudit(dir, { fromSeq: 61 })).toEqual([]);
    const result = verifyAudit(dir);
    expect(result).toMatchObject({ ok: true, lastSeq: 60 });
    // The first record of each later file points at the last record of the file before it.
    const lastOf = (f: string) => JSON.parse(readFileSync(f, 'utf8').trim().split('\n').at(-1)!);
    const firstOf = (f: string) => JSON.parse(readFileSync(f, 'utf8').split('\n')[0]);
    expect(firstOf(files[1]).prev).toBe(lastOf(files[0]).hash);
    expect(firstOf(files[2]).prev).toBe(lastOf(files[1]).hash);
  });

  it('verify names a deleted record as removed', () => {
    const log = new AuditLog({ dir, now });
    fill(log, 10);
    log.close();
    tamper(6, () => null);
    expect(verifyAudit(dir)).toMatchObject({ ok: false, problem: 'removed', seq: 6, message: expect.stringMatching(/^record 6 removed \(next present: 7/) });
  });

  it('verify names a deleted record across a rotation boundary', () => {
    const log = new AuditLog({ dir, now, maxBytes: 1_500, maxFiles: 50 });
    fill(log, 20);
    log.close();
    const second = auditFiles(dir)[1];
    const firstOfSecond = Number(/audit\.(\d+)\.jsonl$/.exec(second)![1]);
    tamper(firstOfSecond, () => null);
    expect(verifyAudit(dir)).toMatchObject({ ok: false, problem: 'removed', seq: firstOfSecond });
  });

  it('verify names an edited record as altered, even when the editor recomputes its hash', () => {
    const log = new AuditLog({ dir, now });
    fill(log, 10);
    log.close();
    tamper(4, (l) => l.replace('"accepted":true', '"accepted":false'));
    expect(verifyAudit(dir)).toMatchObject({ ok: false, problem: 'altered', seq: 4 });

    rmSync(dir, { recursive: true });
    const again = new AuditLog({ dir, now });
    fill(again, 10);
    again.close();
    tamper(4, (l) => {
      const r = JSON.parse(l);
      r.code = 'DENIED';
      const { hash: _h, ...body } = r;
      r.hash = createHash('sha256').update(JSON.stringify(body)).digest('hex');
      return JSON.stringify(r);
    });
    expect(verifyAudit(dir)).toMatchObject({ ok: false, problem: 'altered', seq: 4, message: 'record 4 was altered (record 5 does not chain to it)' });
  });

  it('an unreadable line is named as altered', () => {
    const log = new AuditLog({ dir, now });
    fill(log, 3);
    log.close();
    tamper(2, () => 'garbage');
    expect(verifyAudit(dir)).toMatchObject({ ok: false, problem: 'altered', seq: 2 });
  });

  it('queries by time range, key and job', async () => {
    clock = 10_000;
    const log = new AuditLog({ dir, now });
    fill(log, 10); // ts 10000..10009, odd i → key A
    log.close();
    expect((await queryAudit(dir, { since: 10_002, until: 10_004 })).map((r) => r.seq)).toEqual([3, 4, 5]);
    expect((await queryAudit(dir, { kid: 'AAAAAAAAAAAAAAAA' })).map((r) => r.seq)).toEqual([1, 3, 5, 7, 9]);
    expect((await queryAudit(dir, { job: 'job-7' })).map((r) => r.seq)).toEqual([7]);
    expect(await queryAudit(dir, { limit: 2 })).toHaveLength(2);
  });

  it('long sender-controlled fields are cut, so a record stays small', () => {
    const log = new AuditLog({ dir, now });
    const r = log.append(decision(1, { from: 'x'.repeat(10_000), target: '/'.repeat(10_000) }));
    log.close();
    expect(r.from).toHaveLength(128);
    expect(JSON.stringify(r).length).toBeLessThan(1_200);
    expect(verifyAudit(dir)).toMatchObject({ ok: true });
  });
});
