// A job's terminal event, checked before it is sent: a job must end with exactly one event every
// receiver can decode [cp-evt-5], whatever a JavaScript plugin returned.
import { ErrorCodes, PROTOCOL_VERSION, ResultEvent, formatIssues, type JobEventBody } from '../../protocol/index.js';

export type TerminalBody = Extract<JobEventBody, { type: 'result' | 'error' }>;

/** The body itself, or a FAILED error saying why it could not be sent as it was. */
export function checkedTerminal(job: string, body: TerminalBody): TerminalBody {
  if (body.type !== 'result') return body;
  // An Outcome from a JavaScript plugin is not held to its types (a fractional code, a numeric
  // signal): a result no receiver could decode would leave the job unended for all of them.
  const checked = ResultEvent.safeParse({ v: PROTOCOL_VERSION, host: '', job, seq: 0, ts: 0, ...body });
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
