// connect({ allJobs: true }): one standing subscription to every job topic instead of one per job.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent, type Agent } from '../../agent/index.js';
import { connect, type Fleet } from '../../controller/index.js';
import { clusterKinds, startBrokerKind, type TestBroker } from '../helpers/brokers.js';

describe.each(clusterKinds())('controller with allJobs on %s', (kind) => {
  let broker: TestBroker;
  let agents: Agent[] = [];
  let fleet: Fleet;
  const dir = mkdtempSync(join(tmpdir(), 'cp-alljobs-'));

  beforeAll(async () => {
    broker = await startBrokerKind(kind);
    for (const name of ['aj-1', 'aj-2']) {
      const a = createAgent({ broker: broker.url, name, labels: { role: 'lab' }, stateDir: join(dir, name) });
      a.registerBackgroundCommand('count', async (ctx) => {
        const n = Number(ctx.args[0]);
        for (let i = 1; i <= n; i++) {
          await ctx.write('stdout', `${i}\n`);
          await new Promise((r) => setTimeout(r, 5));
        }
      });
      await a.start();
      agents.push(a);
    }
    fleet = await connect(broker.controllerUrl, { allJobs: true });
  });
  afterAll(async () => {
    await fleet?.close();
    for (const a of agents) await a.stop();
    agents = [];
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs commands one after another to one host and to a label, each with exactly its own result', async () => {
    for (let i = 0; i < 20; i++) {
      const [r] = await fleet.run('aj-1', 'ping', [], { waitMs: 5_000 }).done();
      expect(r).toMatchObject({ host: 'aj-1', state: 'ok' });
    }
    const all = await fleet.run('role=lab', 'exec', ['echo', 'hi'], { waitMs: 5_000 }).done();
    expect(all.map((r) => [r.host, r.state, r.stdout.toString()]).sort()).toEqual([
      ['aj-1', 'ok', 'hi\n'],
      ['aj-2', 'ok', 'hi\n'],
    ]);
  });

  it('attach gets the whole stream of a job another controller started', async () => {
    const other = await connect(broker.url);
    try {
      const job = other.run('aj-2', 'count', [40]);
      await job.started;
      await new Promise((r) => setTimeout(r, 60));
      const [r] = await fleet.attach('aj-2', job.id).done();
      expect(r).toMatchObject({ state: 'ok' });
      expect(r!.stdout.toString()).toBe(Array.from({ length: 40 }, (_, i) => `${i + 1}\n`).join(''));
      await job.done();
    } finally {
      await other.close();
    }
  });
});
