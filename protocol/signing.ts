// Signed commands and signed results [cp-sig-*]: a controller signs each command for the topic it is
// published on, the agent signs its terminal events for their job topic, both with ed25519 over
// canonical JSON, so neither side has to trust the broker (Choria does the same with its v2
// protocol: requests signed by the caller, replies by the node).
import { sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';
import { ErrorCodes } from './codes.js';
import type { Command, CommandInput } from './command.js';
import { checkCommand } from './envelope-check.js';
import { formatIssues } from './decode.js';
import { TERMINAL_TYPES, type JobEventType } from './events.js';
import { keyId } from './keys.js';
import type { Signature } from './signature.js';
import { parseTopic } from './topics.js';

/** Domain tags: a signature made for one purpose never verifies for another [cp-sig-3] [cp-sig-8]. */
export const COMMAND_SIG_CONTEXT = 'conplyent-cmd/1';
export const EVENT_SIG_CONTEXT = 'conplyent-evt/1';

/** Every envelope field but `sig`, `session`, `fold`, `out` and `data`, in the canonical form, absent ones as null [cp-sig-3]; the last four are covered only when present. */
export const SIGNED_COMMAND_FIELDS = ['v', 'id', 'cmd', 'args', 'opts', 'from', 'sentAt', 'ttlMs', 'timeoutMs', 'cwd', 'target'] as const;

/**
 * The refusals of the verify step [cp-sig-5]: the signature, or (BAD_DATA) a command frame's bytes
 * that are not the ones its header, the part a signature covers, declares [cp-cmdframe-4].
 */
export type SignatureErrorCode = 'UNSIGNED' | 'BAD_SIGNATURE' | 'UNKNOWN_KEY' | 'BAD_DATA';
export type Verification = { ok: true; kid: string } | { ok: false; error: SignatureErrorCode; code: number; message: string };

/** Public keys by key id, as trustedKeys() builds them. */
export type TrustedKeys = ReadonlyMap<string, KeyObject>;

type Envelope = CommandInput | Command;

/**
 * The bytes a command signature covers [cp-sig-3]: UTF-8 of the canonical JSON of
 * `{ctx, topic, kid, v, id, cmd, args, opts, from, sentAt, ttlMs, timeoutMs, cwd, target}`, with
 * `args` defaulting to [], `opts` to {} and every other absent field to null.
 * Throws a CanonicalFormError when a value has no portable form (a fraction, a lone surrogate).
 */
export function canonicalCommand(env: Envelope, topic: string, kid: string): Buffer {
  const obj: Record<string, unknown> = { ctx: COMMAND_SIG_CONTEXT, topic, kid };
  for (const f of SIGNED_COMMAND_FIELDS) obj[f] = env[f] ?? (f === 'args' ? [] : f === 'opts' ? {} : null);
  // Covered only when present, so signatures of commands without a session keep their bytes; a
  // session added to a signed command in transit (another directory for a relative rm) fails [cp-env-12].
  if (env.session !== undefined) obj.session = env.session;
  // Likewise `fold` [cp-fold-1]: no field of a signed command may be added or dropped in transit [cp-sig-6].
  if (env.fold !== undefined) obj.fold = env.fold;
  // The same for `out` [cp-env-13]: a relay that adds or drops it must not pass for the sender.
  if (env.out !== undefined) obj.out = env.out;
  // And `data` [cp-cmdframe-3]: through it the signature covers a command frame's bytes (their
  // length and SHA-256), while the signed form stays JSON.
  if (env.data !== undefined) obj.data = env.data;
  return Buffer.from(canonicalJson(obj, 'portable'), 'utf8');
}

/**
 * Signs a command for the topic it will be published on and returns it with `sig` (any previous
 * `sig` replaced). The envelope must be valid and carry `id` and `sentAt` [cp-sig-4].
 * @example
 * const { privateKey } = generateSigningKey();
 * const env = signCommand({ id: 'j1', cmd: 'ping', sentAt: Date.now() }, topics.cmd('web-1'), privateKey);
 * client.publish(topics.cmd('web-1'), JSON.stringify(env), { qos: 1 });
 */
export function signCommand<T extends Envelope>(env: T, topic: string, privateKey: KeyObject): Omit<T, 'sig'> & { sig: Signature } {
  const kind = parseTopic(topic)?.kind;
  if (kind !== 'cmd' && kind !== 'fleetCmd') throw new TypeError(`topic "${topic}" is not a command topic (conplyent/<host>/cmd or conplyent/_all/cmd)`);
  const { sig: _old, ...unsigned } = env;
  const parsed = checkCommand(unsigned);
  if (!parsed.success) throw new TypeError(`the envelope is not valid: ${formatIssues(parsed.error)}`);
  if (parsed.data.id === undefined || parsed.data.sentAt === undefined) {
    throw new TypeError('a signed command must carry id and sentAt (without an id a re-sent copy is a new job; without sentAt it never expires)');
  }
  const kid = keyId(privateKey);
  const value = sign(null, canonicalCommand(parsed.data, topic, kid), privateKey).toString('base64');
  return { ...unsigned, sig: { kid, value } };
}

/** ed25519 verification that answers false, never throws, for any value or key it is given. */
function matches(data: Buffer, key: KeyObject, value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    return verify(null, data, key, Buffer.from(value, 'base64'));
  } catch {
    return false;
  }
}

function refuse(error: SignatureErrorCode, message: string): Verification {
  return { ok: false, error, code: ErrorCodes[error], message };
}

/**
 * Verifies a decoded command against the topic it arrived on [cp-sig-5]: UNSIGNED without `sig`,
 * UNKNOWN_KEY when its key id is not trusted, BAD_SIGNATURE when anything signed differs (a field,
 * the topic, the key id) or when `id` or `sentAt` is missing. Never throws.
 */
export function verifyCommand(env: Envelope, topic: string, trusted: TrustedKeys): Verification {
  const sig = env.sig;
  if (!sig) return refuse('UNSIGNED', 'this agent runs signed commands only; sign it (conplyent sign) with a key the agent trusts');
  const key = trusted.get(sig.kid);
  if (!key) return refuse('UNKNOWN_KEY', `key ${sig.kid} is not trusted by this agent`);
  if (env.id === undefined || env.sentAt === undefined) return refuse('BAD_SIGNATURE', 'a signed command must carry id and sentAt');
  let data: Buffer;
  try {
    data = canonicalCommand(env, topic, sig.kid);
  } catch (err) {
    return refuse('BAD_SIGNATURE', `the command has no canonical form: ${(err as Error).message}`);
  }
  if (!matches(data, key, sig.value)) {
    return refuse('BAD_SIGNATURE', `signature by key ${sig.kid} does not match this command on ${topic} (changed, re-addressed or signed by another key)`);
  }
  return { ok: true, kid: sig.kid };
}

/** A terminal event as published or received: its fields as plain JSON. */
type EventRecord = { type: JobEventType | string; sig?: Signature } & Record<string, unknown>;

/**
 * The bytes an event signature covers [cp-sig-8]: canonical JSON (RFC 8785) of
 * `{ctx, topic, kid, event}` where `event` is the event as received, without its `sig`.
 */
export function canonicalEvent(event: EventRecord, topic: string, kid: string): Buffer {
  const { sig: _sig, ...rest } = event;
  return Buffer.from(canonicalJson({ ctx: EVENT_SIG_CONTEXT, topic, kid, event: rest }, 'jcs'), 'utf8');
}

/** Signs a terminal event (`result`, `error`, `lost`) for its job topic; returns it as JSON will carry it, with `sig`. */
export function signEvent<T extends EventRecord>(event: T, topic: string, privateKey: KeyObject): T & { sig: Signature } {
  const { wire, sig } = signParts(event, topic, privateKey);
  return { ...wire, sig } as T & { sig: Signature };
}

/**
 * `JSON.stringify(signEvent(event, topic, key))`, serialising the event once instead of three times:
 * the agent signs every terminal event it sends [cp-sig-8].
 */
export function signedEventJson(event: EventRecord, topic: string, privateKey: KeyObject): string {
  const { text, sig } = signParts(event, topic, privateKey);
  // `sig` is the last key of the signed event, so its text is the event's with one more field.
  return `${text.slice(0, -1)},"sig":${JSON.stringify(sig)}}`;
}

function signParts(event: EventRecord, topic: string, privateKey: KeyObject): { wire: EventRecord; text: string; sig: Signature } {
  if (!TERMINAL_TYPES.has(event.type as JobEventType)) throw new TypeError(`only terminal events are signed, not "${event.type}"`);
  if (parseTopic(topic)?.kind !== 'job') throw new TypeError(`topic "${topic}" is not a job topic (conplyent/<host>/job/<id>)`);
  // What receivers verify is what JSON carries: undefined fields dropped, toJSON applied.
  const { sig: _old, ...unsigned } = event;
  const text = JSON.stringify(unsigned);
  const wire = JSON.parse(text) as EventRecord;
  const kid = keyId(privateKey);
  const value = sign(null, canonicalEvent(wire, topic, kid), privateKey).toString('base64');
  return { wire, text, sig: { kid, value } };
}

/**
 * Verifies an agent's terminal event with that host's key [cp-sig-8]. Pass the event as parsed from
 * the payload (before any schema drops fields a newer agent added), and the key of the host the
 * topic names, never a fleet-wide set: one agent's key must not vouch for another host.
 */
export function verifyEvent(event: EventRecord, topic: string, hostKey: KeyObject): Verification {
  const sig = event.sig;
  if (!sig || typeof sig !== 'object') return refuse('UNSIGNED', `the ${String(event.type)} event carries no signature`);
  const kid = keyId(hostKey);
  if (sig.kid !== kid) return refuse('UNKNOWN_KEY', `event signed by key ${String(sig.kid)}, the host's key is ${kid}`);
  let data: Buffer;
  try {
    data = canonicalEvent(event, topic, kid);
  } catch (err) {
    return refuse('BAD_SIGNATURE', `the event has no canonical form: ${(err as Error).message}`);
  }
  if (!matches(data, hostKey, sig.value)) {
    return refuse('BAD_SIGNATURE', `signature by key ${kid} does not match this event on ${topic}`);
  }
  return { ok: true, kid };
}
