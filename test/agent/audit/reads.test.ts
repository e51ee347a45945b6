// [cp-audit-1] The agent reads its audit log for one query at a time, with a bounded queue: two
// `audit` commands at once both answer, and queries past the queue are refused with BUSY.
import { describe, expect, it } from 'vitest';
import { AUDIT_QUEUE, AuditReads } from '../../../agent/audit/reads.js';
import type { AuditRecord } from '../../../protocol/audit.js';
import { agentOnAedes } from '../../helpers/agent-fixture.js';
import { result } from '../../helpers/wire.js';

describe('audit queries', () => {
  it('[cp-audit-1] run one at a time, in order, and past the queue are refused with BUSY', async () => {
    let running = 0;
    let most = 0;
    const gates: (() => void)[] = [];
    const reads = new AuditReads(async (q) => {
      most = Math.max(most, ++running);
      await new Promise<void>((r) => gates.push(r));
      running--;
      return [{ seq: q.fromSeq } as unknown as AuditRecord];
    });
    const answers = Array.from({ length: AUDIT_QUEUE + 1 }, (_, i) => reads.run({ fromSeq: i }));
    await expect(reads.run({ fromSeq: 99 })).rejects.toMatchObject({ error: 'BUSY', message: expect.stringMatching(/^BUSY: /) });
    for (let i = 0; i <= AUDIT_QUEUE; i++) {
      for (let n = 0; n < 10 && gates.length === 0; n++) await new Promise((r) => setImmediate(r));
      gates.shift()!();
      expect(await answers[i]).toEqual([{ seq: i }]);
    }
    expect(most).toBe(1);
  });

  describe('on a real agent', () => {
    const f = agentOnAedes('aud-1');

    it('[cp-audit-1] two audit commands at once both answer with the records', async () => {
      await f.wire.run('aud-1', { id: 'aud-ping', cmd: 'ping' });
      const [a, b] = await Promise.all([f.wire.run('aud-1', { id: 'aud-a', cmd: 'audit' }), f.wire.run('aud-1', { id: 'aud-b', cmd: 'audit' })]);
      for (const evs of [a, b]) {
        const r = result(evs);
        expect(r).toMatchObject({ type: 'result', code: 0 });
        expect(r.value.records.some((x: AuditRecord) => x.job === 'aud-ping')).toBe(true);
      }
    });
  });
});
