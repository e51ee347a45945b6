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
