// The `sig` field of commands and terminal events [cp-sig-2]: which key signed, and the signature.
import { z } from 'zod';
import { KEY_ID_RE } from './keys.js';
import { lazySchema } from './lazy-schema.js';

/** base64 of a 64-byte ed25519 signature: 86 characters and '=='. */
export const SIGNATURE_VALUE_RE = /^[A-Za-z0-9+/]{85}[AQgw]==$/;

export const SignatureSchema = lazySchema(() => z
  .object({
    /** Key id of the signing key [cp-sig-1]. */
    kid: z.string().regex(KEY_ID_RE, 'kid must be 16 base64url characters'),
    /** base64 of the ed25519 signature over the canonical form [cp-sig-3]. */
    value: z.string().regex(SIGNATURE_VALUE_RE, 'value must be base64 of 64 bytes'),
  })
  .strict());
export type Signature = z.infer<typeof SignatureSchema>;

/**
 * `sig` checked by hand, for the hand checks of envelopes and events (envelope-check.ts,
 * event-check.ts): a copy when SignatureSchema surely accepts it, undefined to leave it to zod.
 */
export function signatureOf(v: unknown): Signature | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return undefined;
  const { kid, value } = v as Record<string, unknown>;
  // strict [cp-sig-2]: exactly these two keys
  if (Reflect.ownKeys(v).length !== 2 || !Object.hasOwn(v, 'kid') || !Object.hasOwn(v, 'value')) return undefined;
  return typeof kid === 'string' && typeof value === 'string' && KEY_ID_RE.test(kid) && SIGNATURE_VALUE_RE.test(value) ? { kid, value } : undefined;
}
