// Ending a whole process tree. exec starts every program in its own process group (detached), so one
// signal to the group reaches grandchildren too (`sh -c 'a & b'`); Windows has no groups: taskkill /T.
import { execFile } from 'node:child_process';
import { processExists } from './pid.js';

/** Sends `signal` to the process group led by `pid` (falling back to the pid alone); false when nothing was there. */
export function killTree(pid: number, signal: NodeJS.Signals = 'SIGTERM'): boolean {
  if (process.platform === 'win32') {
    execFile('taskkill', ['/T', '/F', '/PID', String(pid)], { windowsHide: true }, () => {});
    return true;
  }
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    try {
      process.kill(pid, signal);
      return true;
    } catch {
      return false;
    }
  }
}

/** Whether any process of the group led by `pid` still exists (EPERM: it exists, we may not signal it). */
export function treeAlive(pid: number): boolean {
  return process.platform === 'win32' ? processExists(pid) : processExists(-pid) || processExists(pid);
}

/** Grace period between the requested signal and SIGKILL for a tree that is still alive. */
export const KILL_GRACE_MS = 3_000;

/** Signals the tree, then SIGKILLs whatever is left of it after the grace period. */
export function terminateTree(pid: number, signal: NodeJS.Signals = 'SIGTERM', graceMs = KILL_GRACE_MS): void {
  killTree(pid, signal);
  if (signal === 'SIGKILL') return;
  // unref: a stuck tree must not keep the agent process alive on its way out.
  setTimeout(() => {
    if (treeAlive(pid)) killTree(pid, 'SIGKILL');
  }, graceMs).unref();
}
