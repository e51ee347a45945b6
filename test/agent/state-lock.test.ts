// One agent per state directory: sharing one would make agents report each other's jobs lost and
// refuse each other's ids as duplicates.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent } from '../../agent/index.js';
import { startAedes, type TestBroker } from '../helpers/brokers.js';
import { spawnAgent } from '../helpers/agent-proc.js';
import { bootId, processStartTime } from '../../agent/jobs/pid.js';
import { connectWire } from '../helpers/wire.js';

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

  /** An agent's lock as an earlier agent left it: the pid, its start time then, and the boot it ran in. */
  const leaveLock = (stateDir: string, lock: object) => {
    mkdirSync(stateDir, { recursive: true });
    writeFileSync(join(stateDir, 'agent.lock'), JSON.stringify({ name: 'gone-1', ...lock }));
  };

  it('[cp-state-5] a stale lock naming pid 1 (a restarted container reuses it) is taken over', async () => {
    const stateDir = join(dir, 'pid1');
    leaveLock(stateDir, { pid: 1, startTime: String(Number(processStartTime(1) ?? 0) + 1), bootId: bootId() });
    const agent = createAgent({ broker: broker.url, name: 'pid1-1', stateDir });
    await agent.start();
    expect(JSON.parse(readFileSync(join(stateDir, 'agent.lock'), 'utf8'))).toMatchObject({ pid: process.pid, name: 'pid1-1' });
    await agent.stop();
  });

  it('[cp-state-5] a stale lock whose pid now belongs to a live process of another program is taken over', async () => {
    const stateDir = join(dir, 'reused');
    const other = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      const started = processStartTime(other.pid!);
      expect(started).toBeDefined();
      // The agent that wrote this lock had the same pid but started earlier.
      leaveLock(stateDir, { pid: other.pid, startTime: String(Number(started) - 1), bootId: bootId() });
      const agent = createAgent({ broker: broker.url, name: 'reused-1', stateDir });
      await agent.start();
      await agent.stop();
      // The same pid and start time, but from another boot: gone too, and the journal is then in doubt.
      leaveLock(stateDir, { pid: other.pid, startTime: started, bootId: '00000000-0000-0000-0000-000000000000' });
      const wire = await connectWire(broker.url);
      try {
        const after = createAgent({ broker: broker.url, name: 'reused-1', stateDir });
        await after.start();
        const online = await wire.waitFor((m) => m.topic === 'conplyent/reused-1/status' && m.json.online === true && m.json.state !== undefined);
        expect(online.json.state).toMatchObject({ status: 'damaged', reason: expect.stringMatching(/machine restarted/) });
        await after.stop();
      } finally {
        await wire.close();
      }
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('[cp-state-5] a lock naming a live agent with its true start time still refuses a second agent', async () => {
    const stateDir = join(dir, 'live');
    const first = await spawnAgent({ broker: broker.url, name: 'live-1', stateDir, powerLog: join(dir, 'p2') });
    try {
      expect(JSON.parse(readFileSync(join(stateDir, 'agent.lock'), 'utf8'))).toMatchObject({ pid: first.child.pid, startTime: processStartTime(first.child.pid!), bootId: bootId() });
      await expect(createAgent({ broker: broker.url, name: 'live-2', stateDir }).start()).rejects.toThrow(/in use by agent "live-1"/);
    } finally {
      await first.kill('SIGKILL');
    }
  });
});
