// Whether the state directory can still prove a job id new [cp-state-1] [cp-state-2]. After damage
// the agent runs only what it can prove it never saw; when it cannot record ids at all, nothing.
import type { ErrorCode } from '../../protocol/index.js';

export type StateHealth =
  | { status: 'ok' }
  /** Records up to `since` may be lost; commands the agent cannot prove newer are refused until `until`. */
  | { status: 'damaged'; since: number; until: number; reason: string }
  /** The journal cannot be read or written: no id can be recorded, so nothing runs. */
  | { status: 'unavailable'; since: number; reason: string };

export interface Doubt {
  error: Extract<ErrorCode, 'STATE_DAMAGED' | 'STATE_UNAVAILABLE'>;
  message: string;
}

/**
 * Why a command that passed dedupe may still not run, or undefined when it may. After damage
 * [cp-state-1] a command is provably new when its `sentAt` is at least `since` plus the clock-skew
 * allowance (the sender's clock may be ahead of ours by that much), or when it has no `id` (a
 * fresh id was assigned: it cannot be a redelivery of a recorded one, [cp-dedupe-3]).
 */
export function doubt(health: StateHealth, command: { id?: string; sentAt?: number }, now: number, skewMs: number): Doubt | undefined {
  if (health.status === 'unavailable') {
    return { error: 'STATE_UNAVAILABLE', message: `the agent cannot record job ids (${health.reason}); it runs nothing until its state directory is repaired and it is restarted` };
  }
  if (health.status !== 'damaged' || now >= health.until || command.id === undefined) return undefined;
  const at = new Date(health.since).toISOString();
  if (command.sentAt === undefined) {
    return { error: 'STATE_DAMAGED', message: `the agent's journal was found damaged at ${at} (${health.reason}); a command with an id but no sentAt cannot be proven new until ${new Date(health.until).toISOString()}: not run. Send it with a fresh sentAt (and a new id)` };
  }
  if (command.sentAt < health.since + skewMs) {
    return { error: 'STATE_DAMAGED', message: `the agent's journal was found damaged at ${at} (${health.reason}); this command was sent before that (+${skewMs} ms skew allowance) and may already have run: not run. Send it again with a new id` };
  }
  return undefined;
}
