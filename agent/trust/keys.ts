// The agent's keys: the controller keys it trusts (files or base64 text, simple mode) and its own
// signing key, created once in the state directory and reused, so its key id stays stable across
// restarts and controllers can pin it [cp-sig-7].
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { closeSync, fstatSync, openSync, readFileSync, writeSync } from 'node:fs';
import { PUBLIC_KEY_TEXT_RE, generateSigningKey, loadKeyFile, parsePublicKey, privateKeyPem, trustedKeys } from '../../protocol/index.js';

/** Each reference is a base64 public key or a key file (PEM or base64); a TypeError names the bad one. */
export function loadTrustedKeys(refs: readonly string[]): Map<string, KeyObject> {
  return trustedKeys(refs.map((ref) => (PUBLIC_KEY_TEXT_RE.test(ref.trim()) ? parsePublicKey(ref) : loadKeyFile(ref).publicKey)));
}

/**
 * The agent's private key from `file`, created (mode 0600, O_EXCL so two starts never both write)
 * when missing. A key readable by group or others is refused: whoever reads it can sign as this host.
 */
export function loadOrCreateOwnKey(file: string): KeyObject {
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new TypeError(`agent key ${file}: cannot create it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    return readOwnKey(file);
  }
  try {
    writeSync(fd, privateKeyPem(generateSigningKey().privateKey));
  } finally {
    closeSync(fd);
  }
  return readOwnKey(file);
}

function readOwnKey(file: string): KeyObject {
  const fd = openSync(file, 'r');
  try {
    const mode = fstatSync(fd).mode & 0o777;
    if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
      throw new TypeError(`agent key ${file}: mode ${mode.toString(8)} lets others read it; chmod 600 ${file}`);
    }
    const text = readFileSync(fd, 'utf8');
    if (!text.includes('PRIVATE KEY-----')) throw new TypeError(`agent key ${file}: not a PKCS#8 private key PEM`);
    const key = createPrivateKey(text);
    if (key.asymmetricKeyType !== 'ed25519') throw new TypeError(`agent key ${file}: a ${key.asymmetricKeyType} key; conplyent signs with ed25519 only`);
    return key;
  } finally {
    closeSync(fd);
  }
}
