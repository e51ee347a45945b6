// A broker that goes away after connect() must not leave done() waiting forever.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createAgent } from '../../agent/index.js';
import { connect } from '../../controller/index.js';
import { startAedes } from '../helpers/brokers.js';

describe('controller with an unreachable broker', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cp-unreach-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('settles every expected host as no-answer within the wait when the command cannot be sent', async () => {
    const broker = await startAedes();
    const agent = createAgent({ broker: broker.url, name: 'gone-1', stateDir: join(dir, 'a'), reconnectMinMs: 60_000 });
    await agent.start();
    const fleet = await connect(broker.url);
    try {
      expect(fleet.host('gone-1')?.online).toBe(true);
      await broker.stop();
      await new Promise((r) => setTimeout(r, 200));
      const results = await fleet.run('gone-1', 'ping', [], { waitMs: 1_000 }).done();
      expect(results).toHaveLength(1);
      expect(results[0]).toMatchObject({ host: 'gone-1', state: 'no-answer' });
      expect(results[0].error?.code).toBe('NO_ANSWER');
    } finally {
      await fleet.close().catch(() => undefined);
      await agent.stop();
    }
  });

  it('attach settles within its wait too when the broker is gone before the job subscription is acknowledged', async () => {
    const broker = await startAedes();
    const agent = createAgent({ broker: broker.url, name: 'gone-2', stateDir: join(dir, 'b'), reconnectMinMs: 60_000 });
    await agent.start();
    const fleet = await connect(broker.url);
    try {
      await broker.stop();
      await new Promise((r) => setTimeout(r, 200));
      const outcome = await Promise.race([
        fleet.attach('gone-2', 'some-job', { waitMs: 1_000 }).done(),
        new Promise((r) => setTimeout(() => r('still waiting'), 5_000)),
      ]);
      expect(outcome).not.toBe('still waiting');
      const [r] = outcome as Awaited<ReturnType<ReturnType<typeof fleet.attach>['done']>>;
      expect(r).toMatchObject({ host: 'gone-2', state: 'no-answer' });
    } finally {
      await fleet.close().catch(() => undefined);
      await agent.stop();
    }
  });
});
