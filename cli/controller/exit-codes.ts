// Exit statuses of the controller verbs (docs/controller.md lists them). Only the CLI sets them.
import type { HostResult } from '../../controller/collect.js';

export const Exit = {
  /** Every expected host succeeded. */
  OK: 0,
  /** At least one host failed, errored, refused, expired or lost the job (and all answered). */
  FAILED: 1,
  /** Bad usage, bad config, or the broker could not be reached. */
  USAGE: 2,
  /** At least one expected host never answered, is offline, or was still running when the wait ended. Wins over FAILED: the outcome there is unknown. */
  NO_ANSWER: 3,
  /** The target matched no known host; nothing was sent. */
  NO_MATCH: 4,
  /**
   * A host's result did not verify against its pinned key [cp-sig-8]: someone else wrote it. Wins
   * over everything a host could answer: the operator must look at the broker before trusting any.
   */
  FORGED: 5,
} as const;
export type ExitStatus = (typeof Exit)[keyof typeof Exit];

type StateOnly = Pick<HostResult, 'state'> | { state: string };

export function exitFor(results: readonly StateOnly[], noMatch = false): ExitStatus {
  if (noMatch) return Exit.NO_MATCH;
  if (results.some((r) => r.state === 'forged')) return Exit.FORGED;
  if (results.some((r) => r.state === 'offline' || r.state === 'no-answer' || r.state === 'running')) return Exit.NO_ANSWER;
  if (results.some((r) => r.state !== 'ok')) return Exit.FAILED;
  return Exit.OK;
}

/** The worse of two statuses, for verbs that run several jobs (shell fed from a pipe). */
export function worse(a: ExitStatus, b: ExitStatus): ExitStatus {
  const rank = [Exit.OK, Exit.FAILED, Exit.NO_ANSWER, Exit.NO_MATCH, Exit.USAGE, Exit.FORGED];
  return rank.indexOf(a) >= rank.indexOf(b) ? a : b;
}
