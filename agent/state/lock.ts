// One agent per state directory: two sharing one would report each other's jobs lost (and end their
// processes) and refuse each other's job ids as duplicates. The lock file names its holder; a lock
// whose process is gone is taken over.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { processExists } from '../jobs/pid.js';

/** State directories locked by agents of this process. */
const LOCKED = new Set<string>();

export class StateDirInUse extends Error {
  constructor(dir: string, name: string, pid: number) {
    super(`state directory ${dir} is in use by agent "${name}" (pid ${pid}); give every agent its own --state-dir (the lock ${join(dir, 'agent.lock')} of a process that died is taken over)`);
  }
}

export class StateLock {
  private path: string | undefined;

  /** Takes the directory for `owner`; throws StateDirInUse when a live agent holds it. */
  constructor(dir: string, owner: string) {
    const path = join(dir, 'agent.lock');
    if (LOCKED.has(path)) throw new StateDirInUse(dir, owner, process.pid);
    try {
      const held = JSON.parse(readFileSync(path, 'utf8')) as { pid: number; name: string };
      if (held.pid !== process.pid && processExists(held.pid)) throw new StateDirInUse(dir, held.name, held.pid);
    } catch (err) {
      if (err instanceof StateDirInUse) throw err;
      // no lock, or an unreadable one: ours to take
    }
    writeFileSync(path, JSON.stringify({ pid: process.pid, name: owner }));
    LOCKED.add(path);
    this.path = path;
  }

  /** Gives the directory up (on a clean stop). */
  release(): void {
    if (!this.path) return;
    LOCKED.delete(this.path);
    rmSync(this.path, { force: true });
    this.path = undefined;
  }
}
