// Ed25519 keys of controllers and agents [cp-sig-1]: the text forms people paste (base64 of the raw
// 32-byte public key, as WireGuard writes keys), the short key id, and PEM files. Node's own crypto.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** Length of a key id: base64url characters of SHA-256(raw public key) [cp-sig-1]. */
export const KEY_ID_LENGTH = 16;
export const KEY_ID_RE = /^[A-Za-z0-9_-]{16}$/;
/** base64 of 32 bytes: 43 characters and one '=' [cp-sig-1]. */
export const PUBLIC_KEY_TEXT_RE = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

export interface SigningKeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export function generateSigningKey(): SigningKeyPair {
  return generateKeyPairSync('ed25519');
}

function assertEd25519(key: KeyObject, what: string): void {
  if (key.asymmetricKeyType !== 'ed25519') throw new TypeError(`${what} is a ${key.asymmetricKeyType ?? key.type} key; conplyent signs with ed25519 only`);
}

/** The raw 32 bytes of an ed25519 public key (RFC 8032 section 5.1.5). Accepts a private key too. */
export function rawPublicKey(key: KeyObject): Buffer {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  assertEd25519(pub, 'the key');
  return Buffer.from(pub.export({ format: 'jwk' }).x as string, 'base64url');
}

/** The public key as people paste it: base64 of the raw 32 bytes. */
export function publicKeyText(key: KeyObject): string {
  return rawPublicKey(key).toString('base64');
}

// Every signature names its key id; deriving it (export, SHA-256) costs more than the hashing of a
// small command, so it is done once per key object.
const keyIds = new WeakMap<KeyObject, string>();

/** The key id: the first 16 characters of base64url(SHA-256(raw public key)) [cp-sig-1]. */
export function keyId(key: KeyObject): string {
  let kid = keyIds.get(key);
  if (kid === undefined) {
    kid = createHash('sha256').update(rawPublicKey(key)).digest('base64url').slice(0, KEY_ID_LENGTH);
    keyIds.set(key, kid);
  }
  return kid;
}

/** Parses the base64 text form of a public key; a TypeError says what is wrong with it. */
export function parsePublicKey(text: string): KeyObject {
  const t = text.trim();
  if (!PUBLIC_KEY_TEXT_RE.test(t)) throw new TypeError(`public key "${t.slice(0, 60)}" is not base64 of 32 bytes (44 characters ending in '=')`);
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(t, 'base64').toString('base64url') }, format: 'jwk' });
}

/**
 * The key id a reference stands for: a key id as is, or the id of a public key in its text form;
 * undefined when it is neither (policy files and --trusted-key accept both).
 */
export function keyIdOf(ref: string): string | undefined {
  const t = ref.trim();
  if (KEY_ID_RE.test(t)) return t;
  if (PUBLIC_KEY_TEXT_RE.test(t)) return keyId(parsePublicKey(t));
  return undefined;
}

/** PKCS#8 PEM of a private key (write it with mode 0600). */
export function privateKeyPem(key: KeyObject): string {
  return key.export({ format: 'pem', type: 'pkcs8' }) as string;
}

/** SPKI PEM of a public key (or of the public half of a private key). */
export function publicKeyPem(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return pub.export({ format: 'pem', type: 'spki' }) as string;
}

/**
 * Reads a key file: a PKCS#8 private key PEM (then both halves are returned), an SPKI public key
 * PEM, or one line with the base64 text form. Throws a TypeError naming the file.
 */
export function loadKeyFile(path: string): { privateKey?: KeyObject; publicKey: KeyObject } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new TypeError(`key file ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  try {
    if (text.includes('PRIVATE KEY-----')) {
      const privateKey = createPrivateKey(text);
      assertEd25519(privateKey, `key file ${path}`);
      return { privateKey, publicKey: createPublicKey(privateKey) };
    }
    const publicKey = text.includes('-----BEGIN') ? createPublicKey(text) : parsePublicKey(text);
    assertEd25519(publicKey, `key file ${path}`);
    return { publicKey };
  } catch (err) {
    const msg = (err as Error).message;
    throw new TypeError(msg.startsWith('key file') ? msg : `key file ${path}: not an ed25519 key in PEM or base64 form (${msg})`);
  }
}

/** Keys by id, as verifyCommand takes them; each key is a KeyObject or its base64 text form. */
export function trustedKeys(keys: Iterable<KeyObject | string>): Map<string, KeyObject> {
  const map = new Map<string, KeyObject>();
  for (const k of keys) {
    const key = typeof k === 'string' ? parsePublicKey(k) : k.type === 'private' ? createPublicKey(k) : k;
    map.set(keyId(key), key);
  }
  return map;
}
