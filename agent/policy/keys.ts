// Key references in a policy: a raw Ed25519 public key (base64 of its 32 bytes) or its key id. Both
// become the key id, the form a verified command carries, so every comparison is on one string.
import { createHash } from 'node:crypto';

/** A key id: the first 16 characters of base64url(SHA-256(raw public key)). */
export const KEY_ID_RE = /^[A-Za-z0-9_-]{16}$/;
const BASE64_RE = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=?$/;

/** The key id of a raw 32-byte public key. */
export function keyIdOfRaw(raw: Buffer): string {
  return createHash('sha256').update(raw).digest('base64url').slice(0, 16);
}

/**
 * The key id a reference stands for, or undefined when it is neither form. 44 characters of
 * base64 decoding to exactly 32 bytes is a public key; 16 base64url characters is an id.
 */
export function keyIdOf(ref: string): string | undefined {
  if (KEY_ID_RE.test(ref)) return ref;
  if (BASE64_RE.test(ref)) {
    const raw = Buffer.from(ref, 'base64');
    if (raw.length === 32) return keyIdOfRaw(raw);
  }
  return undefined;
}
