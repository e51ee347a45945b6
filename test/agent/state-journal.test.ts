// The agent's journal (agent/state/state-dir.ts) gains a few lines per command; an agent that runs for months
// must not grow it without bound: it is compacted while running, and stays correct after a restart.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { StateDir, StateUnavailable } from '../../agent/state/state-dir.js';
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

  it('[cp-state-1] tells a fresh directory from one whose journal was deleted (journal.mark stays)', () => {
    const d = mkdtempSync(join(tmpdir(), 'cp-journal-lost-'));
    try {
      const fresh = new StateDir(d, MAX_TTL_MS);
      expect(fresh.health()).toEqual({ status: 'ok' });
      fresh.begin({ id: 'a', cmd: 'exec', args: [], startedAt: Date.now(), boot: 1 });
      fresh.release();
      rmSync(join(d, 'journal.log'));
      const again = new StateDir(d, MAX_TTL_MS);
      expect(again.health()).toMatchObject({ status: 'damaged', reason: expect.stringMatching(/missing/) });
      again.release();
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  it('[cp-state-1] a journal deleted while running is opened again at its path, not written into the deleted file', () => {
    const d = mkdtempSync(join(tmpdir(), 'cp-journal-gone-'));
    try {
      const state = new StateDir(d, MAX_TTL_MS);
      state.begin({ id: 'before', cmd: 'exec', args: [], startedAt: Date.now(), boot: 1 });
      rmSync(join(d, 'journal.log'));
      state.begin({ id: 'after', cmd: 'exec', args: [], startedAt: Date.now(), boot: 1 });
      expect(readFileSync(join(d, 'journal.log'), 'utf8')).toMatch(/\tafter\t/);
      state.release();
      // Without its header the journal reads as damaged: what it lost is not taken for a fresh start.
      const again = new StateDir(d, MAX_TTL_MS);
      expect(again.health()).toMatchObject({ status: 'damaged' });
      again.release();
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  it('[cp-state-2] a journal that cannot be appended to while running makes begin() refuse and health() unavailable', () => {
    const d = mkdtempSync(join(tmpdir(), 'cp-journal-fail-'));
    const changes: string[] = [];
    try {
      const state = new StateDir(d, MAX_TTL_MS, { onHealth: (h) => changes.push(h.status) });
      rmSync(join(d, 'journal.log'));
      mkdirSync(join(d, 'journal.log')); // EISDIR on the next append
      expect(() => state.begin({ id: 'b', cmd: 'exec', args: [], startedAt: Date.now(), boot: 1 })).toThrow(StateUnavailable);
      expect(state.hasSeen('b')).toBe(false);
      expect(state.health()).toMatchObject({ status: 'unavailable', reason: expect.stringMatching(/EISDIR/) });
      expect(changes).toEqual(['unavailable']);
      state.release();
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});
