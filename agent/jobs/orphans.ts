// A job's process group outlives a SIGKILLed agent (exec runs detached so kill can reach the whole
// tree). The next start reports the job lost and ends that group, but only when the pid still names
// the same process: a recycled pid must never be killed. The identity check uses the process start
// time from /proc, so this is Linux-only; elsewhere the group is left alone and the lost event says so.
import { processStartTime } from './pid.js';

/** Kills the process group of a lost job if it is still the one the job started. Returns what happened. */
export function endOrphanGroup(pid: number | undefined, startTime: string | undefined): string {
  if (pid === undefined) return '';
  if (startTime === undefined || processStartTime(pid) !== startTime) return '';
  try {
    process.kill(-pid, 'SIGKILL');
    return `; its leftover process group ${pid} was killed`;
  } catch {
    return '';
  }
}
