// One agent per state directory: sharing one would make agents report each other's jobs lost and
// refuse each other's ids as duplicates.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent } from '../../agent/index.js';
import { startAedes, type TestBroker } from '../helpers/brokers.js';
import { spawnAgent } from '../helpers/agent-proc.js';

describe('state directory lock', () => {
  let broker: TestBroker;
  const dir = mkdtempSync(join(tmpdir(), 'cp-lock-'));
  beforeAll(async () => {
    broker = await startAedes();
  });
  afterAll(async () => {
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a second agent on a directory a live agent holds is refused, naming the holder', async () => {
    const stateDir = join(dir, 'shared');
    const first = await spawnAgent({ broker: broker.url, name: 'holder-1', stateDir, powerLog: join(dir, 'p') });
    try {
      const second = createAgent({ broker: broker.url, name: 'other-1', stateDir });
      await expect(second.start()).rejects.toThrow(/in use by agent "holder-1"/);
    } finally {
      await first.kill('SIGKILL');
    }
    // The holder died: its lock is taken over.
    const third = createAgent({ broker: broker.url, name: 'holder-1', stateDir });
    await third.start();
    // In one process too, until the first stops.
    await expect(createAgent({ broker: broker.url, name: 'twin-1', stateDir }).start()).rejects.toThrow(/in use/);
    await third.stop();
    const again = createAgent({ broker: broker.url, name: 'holder-1', stateDir });
    await again.start();
    await again.stop();
  });
});
