// [cp-replay-2] Finished jobs stay replayable within bounds: by count as well as by bytes and time,
// so an agent that answers thousands of commands keeps a bounded heap.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createAgent } from '../../agent/index.js';
import { agentOnAedes } from '../helpers/agent-fixture.js';
import { result } from '../helpers/wire.js';

describe('replay retention', () => {
  const f = agentOnAedes('keep-1', { replayJobs: 3 });

  it('keeps at most replayJobs finished jobs: the oldest are forgotten first', async () => {
    for (let i = 1; i <= 5; i++) await f.wire.run('keep-1', { id: `k${i}`, cmd: 'exec', args: ['echo', String(i)] });
    expect(result(await f.wire.run('keep-1', { cmd: 'replay', args: ['k1', 0] }))).toMatchObject({ error: 'UNKNOWN_JOB' });
    const kept = result(await f.wire.run('keep-1', { cmd: 'replay', args: ['k5', 0] }));
    expect(kept.value).toMatchObject({ job: 'k5', firstAvailable: 0, replayed: 3 });
    const listed = result(await f.wire.run('keep-1', { cmd: 'jobs' })).value as { id: string }[];
    expect(listed.map((j) => j.id)).not.toContain('k1');
  });

  it('replays a finished job whose events went through the disk spool (its file is reopened per replay)', async () => {
    const disk = createAgent({ broker: f.broker.url, name: 'disk-1', stateDir: join(f.dir, 'd'), spoolMemoryBytes: 64 });
    await disk.start();
    try {
      const evs = await f.wire.run('disk-1', { id: 'd1', cmd: 'exec', args: ['sh', '-c', 'echo one; echo two; echo three'] });
      const before = evs.length;
      const r = result(await f.wire.run('disk-1', { cmd: 'replay', args: ['d1', 0] }));
      expect(r.value).toMatchObject({ replayed: before, firstAvailable: 0 });
      for (let i = 0; i < 50 && f.wire.jobEvents('disk-1', 'd1').length < 2 * before; i++) await new Promise((res) => setTimeout(res, 50));
      expect(f.wire.jobEvents('disk-1', 'd1').slice(before)).toEqual(evs);
    } finally {
      await disk.stop();
    }
  });
});
