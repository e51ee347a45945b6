// The audit records a controller receives from the `audit` command [cp-audit-*]: the schema, the
// hash over the record as received, and the chain check, tried on topics.md's own example.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { AuditRecordSchema, chainProblem, digestOf, expectedHash, GENESIS, seal, sealed } from '../../protocol/index.js';

const doc = readFileSync(fileURLToPath(new URL('../../topics.md', import.meta.url)), 'utf8');

function exampleRecords(): Record<string, unknown>[] {
  const line = doc.split('\n').find((l) => l.startsWith('conplyent/web-1/job/au1 ') && l.includes('"type":"result"'));
  if (!line) throw new Error('topics.md lost its audit example');
  return JSON.parse(line.slice(line.indexOf(' ') + 1)).value.records;
}

describe('audit records', () => {
  it('[cp-audit-2] the example in topics.md matches the record schema', () => {
    for (const r of exampleRecords()) expect(AuditRecordSchema.safeParse(r).success).toBe(true);
  });

  it('[cp-audit-3] [cp-audit-4] the example chain in topics.md verifies', () => {
    const recs = exampleRecords();
    expect(recs[0].prev).toBe(GENESIS);
    for (const r of recs) expect(expectedHash(r)).toBe(r.hash);
    expect(chainProblem(recs)).toBeUndefined();
  });

  it('[cp-audit-4] names an altered record, a removed one and a rewritten predecessor', () => {
    const a = seal({ kind: 'decision', accepted: true, cmd: 'ping', code: 'ALLOWED', job: 'j1' }, 1, 1, GENESIS);
    const b = seal({ kind: 'outcome', cmd: 'ping', code: 'OK', job: 'j1' }, 2, 2, a.hash);
    const c = seal({ kind: 'decision', accepted: false, cmd: 'rm', code: 'DENIED', job: 'j2' }, 3, 3, b.hash);
    expect(chainProblem([a, b, c])).toBeUndefined();
    expect(chainProblem([a, { ...b, code: 'FAILED' }, c])).toMatch(/record 2 .*altered/);
    expect(chainProblem([a, c])).toMatch(/between 1 and 3 are missing/);
    const forged = seal({ kind: 'outcome', cmd: 'ping', code: 'FAILED', job: 'j1' }, 2, 2, a.hash);
    expect(chainProblem([a, forged, c])).toMatch(/record 2 was altered/);
  });

  it('[cp-audit-2] the digest is sha256 of JSON.stringify({args, opts}), long plain arguments included', () => {
    const long = randomBytes(300_000).toString('base64');
    const cases: [unknown, unknown][] = [
      [['/tmp/f', long], { encoding: 'base64', offset: 262144, truncate: false }],
      [['ls', 1, null, { a: [true] }], {}],
      [[`${long}"`, `${long}\\`, `${long}\n`, `${long}é`, `${long}\ud800`, 'x'.repeat(2000)], undefined],
      [[undefined, () => 1], { k: undefined }],
      [[], {}],
      ['not an array', { a: 1 }],
    ];
    for (const [args, opts] of cases) {
      expect(digestOf(args, opts)).toBe(createHash('sha256').update(JSON.stringify({ args, opts })).digest('hex'));
    }
  });

  it('[cp-audit-3] the line the log writes is the sealed record serialised, and its hash verifies', () => {
    const entries = [
      { kind: 'decision' as const, accepted: true, cmd: 'ping', code: 'ALLOWED', job: 'j1' },
      { kind: 'outcome' as const, cmd: 'exec', code: 'EXIT_1', durationMs: 12.5, job: 'j2', from: 'ops "quoted" \\ \n', kid: 'AbCdEfGhIjKlMnOp', rule: 'r' },
      { kind: 'decision' as const, accepted: false, cmd: 'rm', digest: 'a'.repeat(64), target: '/tmp/ü', code: 'DENIED', job: undefined },
    ];
    for (const e of entries) {
      const { record, json } = sealed(e, 7, 1_764_300_000_000, GENESIS);
      expect(json).toBe(JSON.stringify(record));
      expect(expectedHash(JSON.parse(json))).toBe(record.hash);
    }
  });
});
