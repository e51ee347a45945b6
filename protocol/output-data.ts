// The bytes of an `output` event, whichever form it came in: a JSON event's `data` (text, or base64
// with `enc`) [cp-evt-3], or a frame's raw bytes [cp-frame-2]. A decoded frame is an OutputEvent like
// any other, so code written for JSON events keeps working; `outputBytes()` skips the text round trip.
import { isUtf8 } from 'node:buffer';
import type { OutputEventT } from './events.js';

/** Characters JSON must escape as \u00XX (tab, newline and carriage return stay short). */
// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\x00-\x08\x0b\x0c\x0e-\x1f]/;

/**
 * Whether a chunk goes into a JSON event as text [cp-evt-3]: valid UTF-8 without control characters,
 * which JSON would grow sixfold as escapes (such a chunk is smaller as base64 [cp-limit-3]).
 */
export function isTextChunk(chunk: Buffer): boolean {
  return isUtf8(chunk) && !CONTROL_RE.test(chunk.toString('latin1'));
}

/** A chunk as a JSON event's `data` and `enc`. */
export function jsonOutputData(chunk: Buffer): { data: string; enc?: 'base64' } {
  return isTextChunk(chunk) ? { data: chunk.toString('utf8') } : { data: chunk.toString('base64'), enc: 'base64' };
}

/**
 * An `output` event decoded from a frame. `data` and `enc` are made on first use, exactly as the
 * agent would have written them in a JSON event, and JSON.stringify prints that JSON event: a
 * `--json` consumer cannot tell the two forms apart. They are own enumerable properties (lazy
 * getters defined per frame, not on the prototype), so a spread copy, Object.assign and
 * structuredClone keep them as they keep every other field.
 */
export class OutputFrame implements OutputEventT {
  readonly v = 1 as const;
  readonly type = 'output' as const;
  /** Text, or base64 when `enc` says so [cp-evt-3]. */
  declare readonly data: string;
  declare readonly enc?: 'base64';

  constructor(
    readonly host: string,
    readonly job: string,
    readonly seq: number,
    readonly ts: number,
    readonly stream: OutputEventT['stream'],
    /** The chunk's bytes, as the program wrote them. */
    readonly bytes: Buffer,
  ) {
    let json: { data: string; enc?: 'base64' } | undefined;
    // `update` chunks are text, as in JSON events.
    const asJson = () => (json ??= stream === 'update' ? { data: bytes.toString('utf8') } : jsonOutputData(bytes));
    Object.defineProperty(this, 'data', { enumerable: true, get: () => asJson().data });
    Object.defineProperty(this, 'enc', { enumerable: true, get: () => asJson().enc });
  }

  /** The JSON event this frame stands for [cp-evt-3]. */
  toJSON(): OutputEventT {
    const { data, enc } = this;
    return { v: 1, host: this.host, job: this.job, seq: this.seq, ts: this.ts, type: 'output', stream: this.stream, data, ...(enc ? { enc } : {}) };
  }
}

/** The bytes of an output event: a frame's as they came, a JSON event's decoded from `data` [cp-evt-3]. */
export function outputBytes(ev: OutputEventT): Buffer {
  return ev instanceof OutputFrame ? ev.bytes : Buffer.from(ev.data, ev.enc === 'base64' ? 'base64' : 'utf8');
}
