// A fleet command's target is evaluated by every agent: a pathological glob (many `*`, `?`) must
// not freeze an agent's event loop (regex backtracking is exponential in the number of stars).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAedes, type TestBroker } from '../helpers/brokers.js';
import { spawnAgent, type AgentProc } from '../helpers/agent-proc.js';
import { connectWire, result, type Wire } from '../helpers/wire.js';

describe('fleet targets with pathological globs', () => {
  let broker: TestBroker;
  let wire: Wire;
  let dir: string;
  let agent: AgentProc | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cp-glob-'));
    broker = await startAedes();
    wire = await connectWire(broker.url);
    agent = await spawnAgent({ broker: broker.url, name: 'glob-host-number-01', stateDir: join(dir, 'state'), powerLog: join(dir, 'power'), keepaliveSec: 5 });
  });

  afterAll(async () => {
    await agent?.kill();
    await wire?.close();
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('[cp-fleet-3] a glob of 60 stars and ?s is answered (not selected) and the agent keeps serving', async () => {
    for (const target of ['*'.repeat(60) + 'Z', '*?'.repeat(30) + 'Z']) wire.send('conplyent/_all/cmd', { id: `evil-${target.length}`, cmd: 'ping', target });
    const r = result(await wire.run('glob-host-number-01', { id: 'after-evil', cmd: 'ping' }, 8_000));
    expect(r).toMatchObject({ type: 'result', code: 0 });
    expect(wire.jobEvents('glob-host-number-01', 'evil-61')).toEqual([]);
    // A glob that does match still selects.
    wire.send('conplyent/_all/cmd', { id: 'glob-ok', cmd: 'ping', target: '*-number-??' });
    const ok = await wire.waitFor((m) => m.topic === 'conplyent/glob-host-number-01/job/glob-ok' && m.json.type === 'result', 8_000);
    expect(ok.json).toMatchObject({ type: 'result', code: 0 });
  }, 30_000);
});
