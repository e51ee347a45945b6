// The folded instant answer [cp-fold-*]: a job that ends before its `accepted` was published, when
// the command asked for it with `fold`, is answered by one terminal event (seq 0) carrying what
// `accepted` said. Receivers that want the two events they know get them back with unfold().
import type { AcceptedEventT, JobEvent } from './events.js';

/** The feature an agent lists in its presence when it understands `fold` [cp-fold-4]. */
export const FOLD_FEATURE = 'fold';

/**
 * A folded terminal event as the two events it stands for: the `accepted` (same seq and ts) then
 * the terminal itself; any other event as itself.
 * @example
 * for (const e of unfold(ev)) if (e.type === 'accepted') console.log('running', e.cmd);
 */
export function unfold(ev: JobEvent): JobEvent[] {
  if ((ev.type !== 'result' && ev.type !== 'error') || !ev.accepted) return [ev];
  const accepted: AcceptedEventT = { v: ev.v, host: ev.host, job: ev.job, seq: ev.seq, ts: ev.ts, type: 'accepted', ...ev.accepted };
  return [accepted, ev];
}
