// The known-hosts file: one `host base64-public-key` line per agent, as ssh's known_hosts pins host
// keys. Written 0600 (it decides whose results are believed), appended on first contact.
import { appendFileSync, chmodSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { isHostName, PUBLIC_KEY_TEXT_RE } from '../../protocol/index.js';
import { ControllerError } from '../errors.js';

/** Reads the file (absent: empty); a malformed line is BAD_OPTION naming the file and line. */
export function readKnownHosts(path: string): Map<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw new ControllerError('BAD_OPTION', `known hosts ${path}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const keys = new Map<string, string>();
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const [host, key, ...rest] = line.split(/\s+/);
    if (!isHostName(host) || !PUBLIC_KEY_TEXT_RE.test(key ?? '') || rest.length > 0) {
      throw new ControllerError('BAD_OPTION', `known hosts ${path}:${i + 1}: expected "HOST PUBLIC-KEY" (base64, 44 characters), got "${line.slice(0, 80)}"`);
    }
    keys.set(host, key);
  });
  return keys;
}

/** Appends one pin, creating the file (and its directory) with owner-only permissions. */
export function appendKnownHost(path: string, host: string, key: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  appendFileSync(path, `${host} ${key}\n`, { mode: 0o600 });
  // appendFileSync's mode applies only when it creates the file; an existing one is tightened too.
  chmodSync(path, 0o600);
}
