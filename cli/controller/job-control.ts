// attach, kill and input name a job and a target (`kill role=web JOB`). A fleet job seldom runs on
// every host the target selects: the hosts that never had it answer UNKNOWN_JOB, which is a fact
// about the target, not a failure of the job. They are reported once, as "no job J on …", and left
// out of the exit status; only when no selected host has the job is that an error (exit 4, as a
// target that matches no host). docs/controller.md, "Exit status", states the rule.
import type { HostResult } from '../../controller/collect.js';
import { Exit, exitFor, type ExitStatus } from './exit-codes.js';

export type JobVerb = 'attach' | 'kill' | 'input';

type Answer = Pick<HostResult, 'state' | 'error'>;

/** The host does not know the job: never started there, or its events are no longer kept. */
export function withoutJob(r: Answer): boolean {
  return r.state === 'rejected' && r.error?.code === 'UNKNOWN_JOB';
}

/** `kill` of a job that had already ended there: what the operator asked for already holds. */
export function alreadyEnded(r: Answer, verb: JobVerb): boolean {
  return verb === 'kill' && (r.state === 'error' || r.state === 'rejected') && r.error?.code === 'NOT_RUNNING';
}

/** The exit status over the hosts that have the job; NO_MATCH when none of them has it. */
export function exitForJob(results: readonly Answer[], verb: JobVerb, noMatch = false): ExitStatus {
  if (noMatch) return Exit.NO_MATCH;
  const present = results.filter((r) => !withoutJob(r));
  if (present.length === 0) return results.length ? Exit.NO_MATCH : exitFor(results);
  return exitFor(present.map((r) => (alreadyEnded(r, verb) ? { state: 'ok' } : r)));
}
