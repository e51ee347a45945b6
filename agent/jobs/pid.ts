// What the agent may learn about a process id: whether something lives there, and since when. A pid
// alone is not an identity: after a reboot or a container restart it names someone else.
import { readFileSync } from 'node:fs';

/** Whether a process (or, with a negative pid, a process group) exists; EPERM: it exists, we may not signal it. */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Start time of a process in clock ticks since boot (field 22 of /proc/<pid>/stat, see proc(5)), or undefined off Linux. */
export function processStartTime(pid: number): string | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: count fields after its last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19];
  } catch {
    return undefined;
  }
}

/** This boot's id (/proc/sys/kernel/random/boot_id, see random(4)), or undefined off Linux: a pid means nothing across boots. */
export function bootId(): string | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
