// Decoding of received payloads: never throws; returns the command or a typed error that the
// receiver turns into an event (errors are data on the wire, never a crash).
import { isUtf8 } from 'node:buffer';
import { z } from 'zod';
import type { Command } from './command.js';
import { isCommandFrame, splitCommandFrame } from './command-frames.js';
import { checkCommand } from './envelope-check.js';
import { fastEvent } from './event-check.js';
import { ErrorCodes, type ErrorCode } from './codes.js';
import { jsonDepth, prototypeKeyPath } from './json-guard.js';
import { MAX_COMMAND_BYTES, MAX_JSON_DEPTH } from './limits.js';
import { isJobId } from './names.js';
import { parseTextCommand } from './text.js';
import { AgentNoticeSchema, JobEventSchema, type AgentNotice, type JobEvent } from './events.js';
import { PresenceSchema, type Presence } from './presence.js';

export interface DecodeError {
  ok: false;
  error: ErrorCode;
  code: number;
  message: string;
  /** The job id, when one could be read from the payload despite the error. */
  id?: string;
}
export type Decoded<T> = { ok: true; value: T } | DecodeError;
/** A command, and for a command frame its bytes, not yet checked against the header's `data` [cp-cmdframe-4]. */
export type DecodedCommand = { ok: true; value: Command; data?: Buffer } | DecodeError;

function fail(error: ErrorCode, message: string, id?: string): DecodeError {
  return { ok: false, error, code: ErrorCodes[error], message, ...(id ? { id } : {}) };
}

/** One line per zod issue: `args.0: expected string` — what a person needs to fix the payload. */
export function formatIssues(err: z.ZodError): string {
  return err.issues.map((i) => `${i.path.length ? i.path.join('.') : '(payload)'}: ${i.message}`).join('; ');
}

/**
 * Decodes a command payload: a command frame when it starts with 0xC0 [cp-cmdframe-1], JSON when it
 * starts with `{` or `[` (only an object is valid), else plain text [cp-text-1]. Never throws:
 * anything unexpected is MALFORMED, so every payload gets an answer [cp-err-1].
 */
export function decodeCommand(payload: Buffer): DecodedCommand {
  try {
    return decodeUnsafe(payload);
  } catch (e) {
    return fail('MALFORMED', `payload could not be decoded: ${(e as Error)?.message ?? String(e)}`);
  }
}

/** A value for an error message: short, and never a recursive walk of attacker-shaped data. */
function describe(v: unknown): string {
  return typeof v === 'object' && v !== null ? (Array.isArray(v) ? 'an array' : 'an object') : String(JSON.stringify(v)).slice(0, 40);
}

function decodeUnsafe(payload: Buffer): DecodedCommand {
  if (payload.length > MAX_COMMAND_BYTES) {
    return fail('TOO_LARGE', `payload is ${payload.length} bytes; the limit is ${MAX_COMMAND_BYTES}`);
  }
  // [cp-cmdframe-3] a frame's header is decoded as a JSON command; its bytes are kept aside.
  const frame = isCommandFrame(payload) ? splitCommandFrame(payload) : undefined;
  if (frame && !frame.ok) return fail('MALFORMED', frame.message);
  const body = frame ? frame.header : payload;
  if (!isUtf8(body)) return fail('MALFORMED', frame ? "the command frame's header is not UTF-8 text" : 'payload is not UTF-8 text');
  const text = body.toString('utf8').trim();
  if (frame && !text.startsWith('{')) return fail('MALFORMED', "a command frame's header must be a JSON object");
  let raw: unknown;
  if (text.startsWith('{') || text.startsWith('[')) {
    if (jsonDepth(text) > MAX_JSON_DEPTH) return fail('MALFORMED', `payload nests arrays or objects deeper than ${MAX_JSON_DEPTH} levels`);
    try {
      raw = JSON.parse(text);
    } catch (e) {
      return fail('MALFORMED', `payload is not valid JSON: ${(e as Error).message}`);
    }
  } else {
    try {
      raw = parseTextCommand(text);
    } catch (e) {
      return fail('MALFORMED', `text command does not parse: ${(e as Error).message}`);
    }
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return fail('MALFORMED', 'payload must be a JSON object');
  const rec = raw as Record<string, unknown>;
  const id = isJobId(rec.id) ? rec.id : undefined;
  const protoKey = prototypeKeyPath(rec);
  if (protoKey) {
    // In args and opts the command's arguments are wrong; anywhere else the envelope is [cp-env-11].
    const inArgs = protoKey.startsWith('args.') || protoKey.startsWith('opts.');
    return fail(inArgs ? 'BAD_ARGS' : 'BAD_ENVELOPE', `${protoKey}: __proto__, constructor and prototype are not allowed as keys`, id);
  }
  if (rec.v !== undefined && rec.v !== 1) return fail('UNSUPPORTED_VERSION', `protocol version ${describe(rec.v)} is not supported; this agent speaks v=1`, id);
  const parsed = checkCommand(raw);
  if (!parsed.success) return fail('BAD_ENVELOPE', formatIssues(parsed.error), id);
  if (frame && !parsed.data.data) return fail('BAD_ENVELOPE', 'data: a command frame\'s header must say which bytes follow ({"bytes":N,"sha256":"…"})', id);
  if (!frame && parsed.data.data) return fail('BAD_ENVELOPE', 'data: only a command frame\'s header carries data; in JSON, send the bytes as an argument (base64 for wrfile)', id);
  return frame ? { ok: true, value: parsed.data, data: frame.data } : { ok: true, value: parsed.data };
}

/** `fast`, when given, answers first: it vouches only for what the schema accepts, else zod decides. */
function decodeJson<T>(payload: Buffer, schema: z.ZodType<T>, fast?: (raw: unknown) => T | undefined): T | undefined {
  try {
    const raw: unknown = JSON.parse(payload.toString('utf8'));
    const quick = fast?.(raw);
    if (quick !== undefined) return quick;
    const r = schema.safeParse(raw);
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

/** Decodes a job event; undefined when it is not one (receivers skip and may log it). */
export function decodeEvent(payload: Buffer): JobEvent | undefined {
  return decodeJson(payload, JobEventSchema, fastEvent);
}

/** Decodes a notice from `conplyent/<host>/errors` [cp-topic-5]; undefined when it is not one. */
export function decodeNotice(payload: Buffer): AgentNotice | undefined {
  return decodeJson(payload, AgentNoticeSchema);
}

/** Decodes a presence message; undefined for an empty (cleared) or invalid one. */
export function decodePresence(payload: Buffer): Presence | undefined {
  if (payload.length === 0) return undefined;
  return decodeJson(payload, PresenceSchema);
}
