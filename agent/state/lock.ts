// One agent per state directory: two sharing one would report each other's jobs lost (and end their
// processes) and refuse each other's job ids as duplicates. The lock file names its holder by pid,
// process start time and boot id: after a reboot or a container restart the pid alone names someone
// else (often pid 1), and a lock whose holder is gone is taken over.
import { closeSync, fsyncSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { bootId, processExists, processStartTime } from '../jobs/pid.js';

/** State directories locked by agents of this process. */
const LOCKED = new Set<string>();

export class StateDirInUse extends Error {
  constructor(dir: string, name: string, pid: number) {
    super(`state directory ${dir} is in use by agent "${name}" (pid ${pid}); give every agent its own --state-dir (the lock ${join(dir, 'agent.lock')} of a process that died is taken over)`);
  }
}

/** What a lock file says about the agent that wrote it. */
export interface LockHolder {
  pid: number;
  name: string;
  /** Field 22 of /proc/<pid>/stat when the lock was taken (absent off Linux and in old locks). */
  startTime?: string;
  bootId?: string;
}

/** How the previous holder left the directory, as the lock file tells. */
export type PreviousHolder =
  | { kind: 'clean' } // no lock: it stopped cleanly (or the directory is new)
  | { kind: 'left'; holder: LockHolder; sameBoot: boolean } // killed or crashed; sameBoot false: the machine went down under it
  | { kind: 'unreadable' }; // a lock we cannot read: how it ended is unknown

export class StateLock {
  readonly previous: PreviousHolder;
  private path: string | undefined;

  /** Takes the directory for `owner`; throws StateDirInUse when a live agent holds it. */
  constructor(dir: string, owner: string) {
    const path = join(dir, 'agent.lock');
    if (LOCKED.has(path)) throw new StateDirInUse(dir, owner, process.pid);
    const boot = bootId();
    this.previous = readHolder(path, boot);
    if (this.previous.kind === 'left' && this.previous.holder.pid !== process.pid && alive(this.previous.holder, boot)) {
      throw new StateDirInUse(dir, this.previous.holder.name, this.previous.holder.pid);
    }
    const me: LockHolder = { pid: process.pid, name: owner, startTime: processStartTime(process.pid), bootId: boot };
    // Fsynced: after a power cut the lock is what tells the next start that the machine went down under us.
    const fd = openSync(path, 'w');
    try {
      writeSync(fd, JSON.stringify(me));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
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

/** Why the journal cannot be trusted after how the previous holder ended, or undefined when it can [cp-state-1]. */
export function doubtfulEnd(prev: PreviousHolder): string | undefined {
  if (prev.kind === 'unreadable') return 'agent.lock cannot be read: how the previous agent ended is unknown';
  if (prev.kind === 'left' && !prev.sameBoot) {
    return `the machine restarted while agent "${prev.holder.name}" (pid ${prev.holder.pid}) held this directory: ids it recorded in its last seconds may never have reached the disk`;
  }
  return undefined;
}

function readHolder(path: string, boot: string | undefined): PreviousHolder {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? { kind: 'clean' } : { kind: 'unreadable' };
  }
  try {
    const h = JSON.parse(text) as LockHolder;
    if (!Number.isInteger(h.pid) || h.pid <= 0) return { kind: 'unreadable' };
    return { kind: 'left', holder: h, sameBoot: h.bootId === undefined || boot === undefined || h.bootId === boot };
  } catch {
    return { kind: 'unreadable' };
  }
}

/** The holder still runs: same boot, and its pid still belongs to the process that took the lock. */
function alive(h: LockHolder, boot: string | undefined): boolean {
  if (h.bootId !== undefined && boot !== undefined && h.bootId !== boot) return false;
  if (!processExists(h.pid)) return false;
  // A lock without a start time (off Linux, or an older agent's) can only be judged by its pid.
  if (h.startTime === undefined) return true;
  const now = processStartTime(h.pid);
  return now === undefined || now === h.startTime;
}
