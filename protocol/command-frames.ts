// Command frames [cp-cmdframe-*]: the compact form of a command that carries bytes (a `put` chunk).
// The ordinary JSON envelope as a header, with `data` saying how many bytes follow and their
// SHA-256, then the bytes as they are: no base64 (+33%), no 350 kB JSON string to parse, check and
// decode. A signature covers the header [cp-sig-3], so the signed form stays JSON that any client
// can produce, and the bytes through their SHA-256.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { lazySchema } from './lazy-schema.js';
import { MAX_COMMAND_BYTES } from './limits.js';

/**
 * First byte of a command frame, format 1. Like an output frame's 0xC1 it never occurs in UTF-8
 * (RFC 3629 §1), so it can start neither JSON nor a text command [cp-text-1]; another byte than
 * output's keeps a frame sent to the wrong kind of topic from being read as the other kind.
 */
export const COMMAND_FRAME_MAGIC = 0xc0;

/** The magic byte and the header's length (4 bytes, big-endian) before the header [cp-cmdframe-2]. */
export const COMMAND_FRAME_PREFIX_BYTES = 5;

/** The feature an agent lists in its presence when it takes command frames (the envelope's `data`) [cp-cmdframe-1]. */
export const DATA_FEATURE = 'data';

/** The header's `data`: which bytes follow it [cp-cmdframe-3]. */
export const DataSchema = lazySchema(() => z
  .object({
    /** How many bytes follow the header. */
    bytes: z.number().int().nonnegative().max(MAX_COMMAND_BYTES),
    /** SHA-256 of those bytes, lower-case hex. */
    sha256: z.string().regex(/^[0-9a-f]{64}$/, 'sha256 must be 64 lower-case hex digits'),
  })
  .strict());
export type DataDescriptor = z.output<typeof DataSchema>;

/**
 * The bytes of a command frame as a positional argument, once the agent checked them against the
 * header. As JSON it is its descriptor `{bytes, sha256}`: the `accepted` echo, `jobs`, the journal
 * and the audit digest [cp-audit-2] name the bytes by their SHA-256 without copying or hashing them again.
 */
export class CommandData extends Uint8Array {
  /** Views made from it (subarray, slice, map) are plain Uint8Arrays: they are not these bytes. */
  static get [Symbol.species](): Uint8ArrayConstructor {
    return Uint8Array;
  }

  /** SHA-256 (hex) of these bytes, as the header declared it and the agent found it. */
  readonly sha256: string;

  /** A view of `bytes` (no copy). */
  constructor(bytes: Uint8Array, sha256: string) {
    super(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.length);
    this.sha256 = sha256;
  }

  toJSON(): DataDescriptor {
    return { bytes: this.length, sha256: this.sha256 };
  }
}

/** True when a payload on a command topic is a command frame rather than JSON or text. */
export function isCommandFrame(payload: Uint8Array): boolean {
  return payload.length > 0 && payload[0] === COMMAND_FRAME_MAGIC;
}

export type SplitFrame = { ok: true; header: Buffer; data: Buffer } | { ok: false; message: string };

/** A frame's header and bytes, every read bounds-checked [cp-cmdframe-4]; never throws. */
export function splitCommandFrame(payload: Buffer): SplitFrame {
  if (payload.length < COMMAND_FRAME_PREFIX_BYTES) return { ok: false, message: `command frame is ${payload.length} bytes, shorter than its ${COMMAND_FRAME_PREFIX_BYTES}-byte prefix` };
  const end = COMMAND_FRAME_PREFIX_BYTES + payload.readUInt32BE(1);
  if (end > payload.length) return { ok: false, message: `command frame header runs to byte ${end}, past the frame's end (${payload.length} bytes)` };
  return { ok: true, header: payload.subarray(COMMAND_FRAME_PREFIX_BYTES, end), data: payload.subarray(end) };
}

/** What a header says about the bytes it carries. */
export function describeData(data: Uint8Array): DataDescriptor {
  return { bytes: data.length, sha256: createHash('sha256').update(data).digest('hex') };
}

/**
 * A command frame [cp-cmdframe-2]: `header` is the envelope as it goes out (signed or not), which
 * must carry the `data` of these bytes (describeData).
 * @example
 * const data = readFileSync('part0');
 * const frame = encodeCommandFrame({ id: 'c1', cmd: 'wrfile', args: ['/tmp/f'], opts: { offset: 0 }, data: describeData(data) }, data);
 * client.publish('conplyent/web-1/cmd', frame, { qos: 1 });
 */
export function encodeCommandFrame(header: object, data: Uint8Array): Buffer {
  const head = Buffer.from(JSON.stringify(header));
  const frame = Buffer.allocUnsafe(COMMAND_FRAME_PREFIX_BYTES + head.length + data.length);
  frame[0] = COMMAND_FRAME_MAGIC;
  frame.writeUInt32BE(head.length, 1);
  head.copy(frame, COMMAND_FRAME_PREFIX_BYTES);
  frame.set(data, COMMAND_FRAME_PREFIX_BYTES + head.length);
  return frame;
}

/**
 * The bytes as an argument when they are what the header declared [cp-cmdframe-4]; otherwise why
 * not. The header may be signed: this is what extends the signature to the bytes.
 */
export function checkData(declared: DataDescriptor, data: Buffer): { ok: true; value: CommandData } | { ok: false; message: string } {
  if (data.length !== declared.bytes) return { ok: false, message: `the frame carries ${data.length} bytes; its header says ${declared.bytes}` };
  const sha256 = createHash('sha256').update(data).digest('hex');
  if (sha256 !== declared.sha256) return { ok: false, message: `the frame's bytes have SHA-256 ${sha256}; its header says ${declared.sha256}` };
  return { ok: true, value: new CommandData(data, sha256) };
}
