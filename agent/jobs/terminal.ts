// A job's terminal event, checked before it is sent: a job must end with exactly one event every
// receiver can decode [cp-evt-5], whatever a JavaScript plugin returned.
import { ErrorCodes, PROTOCOL_VERSION, ResultEvent, formatIssues, type JobEventBody } from '../../protocol/index.js';

export type TerminalBody = Extract<JobEventBody, { type: 'result' | 'error' }>;

/** The body itself, or a FAILED error saying why it could not be sent as it was. */
export function checkedTerminal(job: string, body: TerminalBody): TerminalBody {
  if (body.type !== 'result') return body;
  // An Outcome from a JavaScript plugin is not held to its types (a fractional code, a numeric
  // signal): a result no receiver could decode would leave the job unended for all of them.
  const checked = plainResult(body) ? { success: true as const } : ResultEvent.safeParse({ v: PROTOCOL_VERSION, host: '', job, seq: 0, ts: 0, ...body });
  if (!checked.success) return { type: 'error', code: ErrorCodes.FAILED, error: 'FAILED', message: `the command returned an invalid outcome: ${formatIssues(checked.error)}` };
  if (body.value === undefined) return body;
  // A value JSON cannot encode (a BigInt, a cycle) would throw in the outbox after the job was
  // marked ended: no terminal event at all, a job that never ends for every receiver.
  try {
    JSON.stringify(body.value);
  } catch (err) {
    return { type: 'error', code: ErrorCodes.FAILED, error: 'FAILED', message: `the command's result value cannot be sent as JSON: ${(err as Error).message}` };
  }
  return body;
}

/** Fields of a result body the hand check knows; anything else (a folded `accepted`, a `sig`, an envelope field) goes to zod. */
const RESULT_RULES: Record<string, (v: unknown) => boolean> = {
  type: (v) => v === 'result',
  code: (v) => v === null || (typeof v === 'number' && Number.isSafeInteger(v)),
  signal: (v) => v === undefined || v === null || typeof v === 'string',
  durationMs: (v) => typeof v === 'number' && Number.isFinite(v),
  events: (v) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0,
  value: () => true,
  timedOut: (v) => v === undefined || typeof v === 'boolean',
  killed: (v) => v === undefined || typeof v === 'boolean',
  valueOmitted: (v) => v === undefined || typeof v === 'string',
};

/**
 * True when ResultEvent surely accepts the body, checked by hand: zod's walk of ResultEvent cost
 * ≈ 15 µs of every job's path to its result (CPU profile, `npm run bench -- roundtrip`). False
 * sends it to zod, which decides and says why (test/agent/terminal-check.test.ts compares both).
 */
export function plainResult(body: object): boolean {
  if (Object.getPrototypeOf(body) !== Object.prototype) return false;
  for (const k in body) {
    const rule = Object.hasOwn(RESULT_RULES, k) ? RESULT_RULES[k] : undefined;
    if (!rule || !rule((body as Record<string, unknown>)[k])) return false;
  }
  return 'code' in body && 'durationMs' in body && 'events' in body;
}
