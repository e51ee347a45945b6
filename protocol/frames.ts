// Output frames [cp-frame-*]: the compact form of `output` events a command asks for with
// `out: "raw"`. A fixed 16-byte header and the chunk's bytes as they are: no JSON escaping, no
// base64 (+33%), no schema per chunk. Published on the job's own topic, beside its JSON events.
import { MAX_EVENT_BYTES } from './limits.js';
import { OutputFrame } from './output-data.js';

/**
 * First byte of every frame, and its format version. 0xC1 never occurs in UTF-8 (an overlong lead
 * byte, RFC 3629 §1) and JSON text is UTF-8 (RFC 8259 §8.1), so one byte tells a frame from a JSON
 * event, whatever white space or BOM a JSON writer puts first.
 */
export const FRAME_MAGIC = 0xc1;

/** Bytes before the data in frames of this format; a larger header-length byte means fields a newer agent added. */
export const FRAME_HEADER_BYTES = 16;

/** Largest frame, header included: the event size limit [cp-limit-3], so a frame fits every broker an event fits. */
export const MAX_FRAME_BYTES = MAX_EVENT_BYTES;

/** Most data bytes in one frame [cp-frame-3]: 262 128, four times a JSON event's chunk. */
export const MAX_FRAME_DATA_BYTES = MAX_FRAME_BYTES - FRAME_HEADER_BYTES;

/** Stream codes of byte 2, in the order of the JSON event's `stream` values. */
export const FRAME_STREAMS = ['stdout', 'stderr', 'update'] as const;
export type FrameStream = (typeof FRAME_STREAMS)[number];

/** The encodings an `out` field may ask for [cp-env-13]. */
export const OUTPUT_ENCODINGS = ['json', 'raw'] as const;
/** The feature an agent lists in its presence when it understands `out` [cp-env-13]. */
export const OUT_FEATURE = 'out';
export type OutputEncoding = (typeof OUTPUT_ENCODINGS)[number];

/** Why a payload on a job topic that starts with the frame byte was dropped [cp-frame-4]. */
export const FrameProblems = {
  /** Shorter than the header. */
  SHORT: 'short',
  /** Larger than MAX_FRAME_BYTES. */
  TOO_LARGE: 'too-large',
  /** Header length byte below 16 or past the end of the payload. */
  HEADER: 'header',
  /** A stream code this receiver does not know. */
  STREAM: 'stream',
} as const;
export type FrameProblem = (typeof FrameProblems)[keyof typeof FrameProblems];

export type FrameDecoded = { ok: true; value: OutputFrame } | { ok: false; problem: FrameProblem; message: string };

/** True when a payload on a job topic is a frame rather than a JSON event. */
export function isFrame(payload: Uint8Array): boolean {
  return payload.length > 0 && payload[0] === FRAME_MAGIC;
}

/**
 * The frame of one output chunk [cp-frame-2]. `data` must fit MAX_FRAME_DATA_BYTES and `seq` and
 * `ts` 48 bits (exact in a JavaScript number; 2^48 events, or ms until the year 10889); the agent's
 * chunking guarantees it (a RangeError otherwise, never a frame that lies).
 */
export function encodeFrame(seq: number, ts: number, stream: FrameStream, data: Uint8Array): Buffer {
  if (data.length > MAX_FRAME_DATA_BYTES) throw new RangeError(`frame data is ${data.length} bytes; the limit is ${MAX_FRAME_DATA_BYTES}`);
  const buf = Buffer.allocUnsafe(FRAME_HEADER_BYTES + data.length);
  buf.set(data, FRAME_HEADER_BYTES);
  return frameIn(buf, seq, ts, stream);
}

/**
 * The frame whose data already sits in `buf` after FRAME_HEADER_BYTES of room: the header is
 * written in place, so a gathered chunk is not copied into a frame of its own (a 256 KiB copy and
 * allocation per frame of a fast stream). Same checks and result as encodeFrame.
 */
export function frameIn(buf: Buffer, seq: number, ts: number, stream: FrameStream): Buffer {
  if (buf.length > MAX_FRAME_BYTES) throw new RangeError(`frame data is ${buf.length - FRAME_HEADER_BYTES} bytes; the limit is ${MAX_FRAME_DATA_BYTES}`);
  buf[0] = FRAME_MAGIC;
  buf[1] = FRAME_HEADER_BYTES;
  buf[2] = FRAME_STREAMS.indexOf(stream);
  buf[3] = 0;
  buf.writeUIntBE(seq, 4, 6);
  buf.writeUIntBE(ts, 10, 6);
  return buf;
}

function problem(p: FrameProblem, message: string): FrameDecoded {
  return { ok: false, problem: p, message };
}

/**
 * Decodes a frame received on `conplyent/<host>/job/<job>` (host and job come from the topic, which
 * the broker's ACL vouches for). Every read is bounds-checked; never throws [cp-frame-4].
 */
export function decodeFrame(payload: Buffer, host: string, job: string): FrameDecoded {
  if (payload.length > MAX_FRAME_BYTES) return problem('too-large', `frame is ${payload.length} bytes; the limit is ${MAX_FRAME_BYTES}`);
  if (payload.length < FRAME_HEADER_BYTES || payload[0] !== FRAME_MAGIC) return problem('short', `frame is ${payload.length} bytes, shorter than its ${FRAME_HEADER_BYTES}-byte header`);
  const hlen = payload[1];
  if (hlen < FRAME_HEADER_BYTES || hlen > payload.length) return problem('header', `header length ${hlen} is outside ${FRAME_HEADER_BYTES}…${payload.length}`);
  const stream = FRAME_STREAMS[payload[2]];
  if (stream === undefined) return problem('stream', `stream code ${payload[2]} is not 0 (stdout), 1 (stderr) or 2 (update)`);
  const seq = payload.readUIntBE(4, 6);
  const ts = payload.readUIntBE(10, 6);
  return { ok: true, value: new OutputFrame(host, job, seq, ts, stream, payload.subarray(hlen)) };
}
