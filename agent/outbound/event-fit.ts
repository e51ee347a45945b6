// One event encoded for the wire, within the event size limit. Producers chunk output; what can
// still be too big is a result value, the arguments an `accepted` echoes, or an error message naming
// a huge path. Such an event is made to fit with an explicit marker, never cut silently [cp-limit-3]:
// an event over the broker's packet limit would make the broker drop the connection, and the QoS 1
// resend after every reconnect would wedge it for good (mqtt.js issues #768 and #1005).
import type { KeyObject } from 'node:crypto';
import { MAX_ECHO_ARGS_BYTES, MAX_EVENT_BYTES, PROTOCOL_VERSION, isTerminal, signedEventJson, topics, type JobEvent, type JobEventBody } from '../../protocol/index.js';
import { previewArgs } from '../preview.js';

/** Longest error message kept when an error event would exceed the event limit. */
const MAX_MESSAGE_CHARS = 4096;

function shrink(ev: JobEvent, size: number): JobEvent {
  const over = `${size} bytes, over the ${MAX_EVENT_BYTES}-byte event limit`;
  switch (ev.type) {
    case 'result': {
      const { value: _drop, ...rest } = ev;
      return { ...rest, valueOmitted: `value was ${over}` };
    }
    case 'accepted':
      return { ...ev, args: previewArgs(ev.args), argsOmitted: `the event was ${over}; arguments are shortened, marked with their length` } as JobEvent;
    case 'error':
    case 'lost':
      return { ...ev, message: `${ev.message.slice(0, MAX_MESSAGE_CHARS)}…(message cut: the event was ${over})` };
    default:
      return ev;
  }
}

/** An `accepted` echoes long arguments (an upload chunk) shortened, whatever the event limit [cp-limit-5]. */
function echoable(body: JobEventBody): JobEventBody {
  if (body.type === 'accepted') return { ...body, ...echoedArgs(body) };
  // A folded terminal carries its `accepted` under the same echo limit [cp-fold-2].
  if ((body.type === 'result' || body.type === 'error') && body.accepted) return { ...body, accepted: { ...body.accepted, ...echoedArgs(body.accepted) } };
  return body;
}

function echoedArgs(a: { args: unknown[] }): { args: unknown[]; argsOmitted?: string } {
  // One long string settles it without serialising a 175 kB chunk only to measure it.
  const long = a.args.some((x) => typeof x === 'string' && x.length > MAX_ECHO_ARGS_BYTES);
  if (!long && Buffer.byteLength(JSON.stringify(a.args)) <= MAX_ECHO_ARGS_BYTES) return { args: a.args };
  return { args: previewArgs(a.args), argsOmitted: `arguments over the ${MAX_ECHO_ARGS_BYTES}-byte echo limit are shortened, marked with their length` };
}

/**
 * The event `seq` of a job as the bytes published on its topic. With a key, a terminal event is
 * signed [cp-sig-8] after it was made to fit, and the signature counts in the size: the spool and
 * `replay` keep these exact bytes, so what is replayed verifies too.
 */
export function encodeEvent(host: string, job: string, seq: number, body: JobEventBody, key?: KeyObject, ts = Date.now()): Buffer {
  const ev = { v: PROTOCOL_VERSION, host, job, seq, ts, ...echoable(body) } as JobEvent;
  const json = key && isTerminal(body) ? (e: JobEvent) => signedEventJson(e, topics.job(host, job), key) : (e: JobEvent) => JSON.stringify(e);
  const buf = Buffer.from(json(ev));
  return buf.length > MAX_EVENT_BYTES ? Buffer.from(json(shrink(ev, buf.length))) : buf;
}
