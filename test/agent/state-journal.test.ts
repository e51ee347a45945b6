// The agent's journal (agent/state/state-dir.ts) gains a few lines per command; an agent that runs for months
// must not grow it without bound: it is compacted while running, and stays correct after a restart.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { StateDir } from '../../agent/state/state-dir.js';
import { MAX_TTL_MS } from '../../protocol/index.js';

describe('state journal', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cp-journal-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('[cp-dedupe-2] stays bounded under a steady command rate and still knows every seen id and unfinished job after a restart', () => {
    const state = new StateDir(dir, MAX_TTL_MS, { compactBytes: 64 * 1024 });
    const args = ['x'.repeat(300)];
    state.begin({ id: 'still-running', cmd: 'exec', args, startedAt: Date.now(), boot: 1 });
    for (let i = 0; i < 5000; i++) {
      state.begin({ id: `j${i}`, cmd: 'exec', args, startedAt: Date.now(), boot: 1 });
      state.forgetJob(`j${i}`);
      if (i % 100 === 0) state.prune();
    }
    state.prune();
    // Uncompacted this is ~1.7 MB (an R line of ~300 bytes per job); the seen window itself is ~100 kB.
    expect(statSync(join(dir, 'journal.log')).size).toBeLessThan(400 * 1024);
    state.release(); // the agent that wrote it is gone (a restart)
    const again = new StateDir(dir, MAX_TTL_MS);
    expect(again.hasSeen('j0')).toBe(true);
    expect(again.hasSeen('j4999')).toBe(true);
    expect(again.hasSeen('never')).toBe(false);
    expect(again.unfinishedJobs().map((r) => r.id)).toEqual(['still-running']);
  });

  it('[cp-dedupe-1] a job still running past the seen-id retention stays seen: its id cannot start a second run', async () => {
    const d = mkdtempSync(join(tmpdir(), 'cp-journal-long-'));
    try {
      const state = new StateDir(d, 20);
      state.begin({ id: 'long-runner', cmd: 'exec', args: [], startedAt: Date.now(), boot: 1 });
      await new Promise((r) => setTimeout(r, 60));
      state.prune();
      expect(state.hasSeen('long-runner')).toBe(true);
      state.release(); // a restart
      const restarted = new StateDir(d, 20);
      expect(restarted.hasSeen('long-runner')).toBe(true);
      restarted.forgetJob('long-runner');
      restarted.release();
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});
