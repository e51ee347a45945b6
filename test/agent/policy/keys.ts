// Real Ed25519 keys for policy tests: public keys as base64 of the raw 32 bytes, as the policy file holds them.
import { generateKeyPairSync } from 'node:crypto';
import { keyIdOf } from '../../../protocol/keys.js';

export function newKey(): { pub: string; kid: string } {
  const { publicKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url');
  const pub = raw.toString('base64');
  return { pub, kid: keyIdOf(pub)! };
}
