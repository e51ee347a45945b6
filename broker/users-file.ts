// The users file of the embedded broker: who may connect and in which role. Passwords are stored
// only as scrypt hashes with a random salt (never plain) and compared in constant time.
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { readFile, rename, writeFile, stat } from 'node:fs/promises';
import { isHostName } from '../protocol/index.js';

/** What a user may do; broker/acl.ts holds the rules of each role. */
export const ROLES = ['agent', 'controller', 'observer'] as const;
export type Role = (typeof ROLES)[number];

export interface UserEntry {
  role: Role;
  /** `scrypt$N$r$p$<salt base64>$<hash base64>` */
  hash: string;
}

/** Controller and observer names: a safe charset (no `/ + # $`, NUL or `:`), so they can never be wildcards. */
const USER_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$/;
const SCRYPT = { N: 16384, r: 8, p: 1, keyLen: 32 } as const;

function scrypt(password: string, salt: Buffer, keyLen: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCb(password, salt, keyLen, opts, (err, key) => (err ? reject(err) : resolve(key))));
}

/** Throws a TypeError naming the problem when `name` cannot be a user of this role. */
export function checkUserName(name: string, role: Role): void {
  if (!(ROLES as readonly string[]).includes(role)) throw new TypeError(`role "${role}" must be one of ${ROLES.join(', ')}`);
  // An agent's user name is its host name: the ACL puts it into topic levels (conplyent/<name>/...).
  if (role === 'agent' && !isHostName(name)) {
    throw new TypeError(`agent user "${name}" must be a valid host name: letters, digits, _ . - (starting with a letter or digit, at most 64)`);
  }
  if (!USER_NAME_RE.test(name)) throw new TypeError(`user name "${name}" may hold only letters, digits, _ . @ - (starting with a letter or digit, at most 64)`);
}

/** Hashes a password into the self-describing `scrypt$...` form. */
export async function hashPassword(password: string): Promise<string> {
  if (typeof password !== 'string' || password.length === 0) throw new TypeError('password must not be empty');
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, SCRYPT.keyLen, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p });
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64'), key.toString('base64')].join('$');
}

/** Checks a password against a stored hash in constant time; false for any malformed hash. */
export async function checkPassword(password: string | Buffer, hash: string): Promise<boolean> {
  const parts = hash.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number);
  const salt = Buffer.from(parts[4], 'base64');
  const expected = Buffer.from(parts[5], 'base64');
  if (![N, r, p].every(Number.isSafeInteger) || expected.length < 16 || N > 2 ** 20) return false;
  const key = await scrypt(Buffer.isBuffer(password) ? password.toString('utf8') : password, salt, expected.length, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 });
  return timingSafeEqual(key, expected);
}

/** Reads the users file; a missing file is an empty one. Throws an Error naming the file when it does not parse. */
export async function readUsers(file: string): Promise<Map<string, UserEntry>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw e;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`users file ${file} is not valid JSON: ${(e as Error).message}`);
  }
  const users = (raw as { users?: unknown })?.users;
  if (typeof users !== 'object' || users === null || Array.isArray(users)) throw new Error(`users file ${file} must hold {"users": {...}}`);
  // A Map, not an object: a user called "constructor" or "__proto__" must never find a prototype member.
  const map = new Map<string, UserEntry>();
  for (const [name, entry] of Object.entries(users)) {
    const e = entry as Partial<UserEntry>;
    if (!(ROLES as readonly string[]).includes(e?.role as string) || typeof e?.hash !== 'string') {
      throw new Error(`users file ${file}: user "${name}" needs a role (${ROLES.join('|')}) and a hash`);
    }
    try {
      // A hand-edited file must not smuggle in a name with wildcards or separators (Mosquitto CVE-2017-7650).
      checkUserName(name, e.role as Role);
    } catch (err) {
      throw new Error(`users file ${file}: ${(err as Error).message}`);
    }
    map.set(name, { role: e.role as Role, hash: e.hash });
  }
  return map;
}

async function writeUsers(file: string, users: Map<string, UserEntry>): Promise<void> {
  const body = JSON.stringify({ users: Object.fromEntries([...users].sort(([a], [b]) => a.localeCompare(b))) }, null, 2) + '\n';
  // Write then rename, so a running broker never reads half a file; 0600 because hashes are secrets too.
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, body, { mode: 0o600 });
  await rename(tmp, file);
}

/**
 * Adds a user or replaces its role and password.
 * @example await addUser('/etc/conplyent/users.json', 'web-1', 'agent', 's3cret')
 */
export async function addUser(file: string, name: string, role: Role, password: string): Promise<void> {
  checkUserName(name, role);
  const users = await readUsers(file);
  users.set(name, { role, hash: await hashPassword(password) });
  await writeUsers(file, users);
}

/** Removes a user; returns false when there was no such user. */
export async function removeUser(file: string, name: string): Promise<boolean> {
  const users = await readUsers(file);
  if (!users.delete(name)) return false;
  await writeUsers(file, users);
  return true;
}

/** Lists users and roles (never hashes), sorted by name. */
export async function listUsers(file: string): Promise<{ name: string; role: Role }[]> {
  const users = await readUsers(file);
  return [...users].map(([name, u]) => ({ name, role: u.role })).sort((a, b) => a.name.localeCompare(b.name));
}

// Hash of a random password: unknown users cost the same scrypt as known ones (no user enumeration by timing).
let dummyHash: Promise<string> | undefined;

/** The user's role when name and password match, otherwise undefined. */
export async function verifyUser(file: string, name: string, password: string | Buffer): Promise<Role | undefined> {
  return verifyIn(await readUsers(file), name, password);
}

export async function verifyIn(users: Map<string, UserEntry>, name: string, password: string | Buffer | undefined): Promise<Role | undefined> {
  const user = users.get(name);
  const pw = password ?? '';
  if (!user) {
    await checkPassword(pw, await (dummyHash ??= hashPassword(randomBytes(16).toString('hex'))));
    return undefined;
  }
  return (await checkPassword(pw, user.hash)) ? user.role : undefined;
}

/** Re-reads the users file only when it changed, so `user add` takes effect without a broker restart. */
export function cachedUsers(file: string): () => Promise<Map<string, UserEntry>> {
  let key = '';
  let cached: Promise<Map<string, UserEntry>> | undefined;
  return async () => {
    const s = await stat(file).catch(() => undefined);
    const k = s ? `${s.mtimeMs}:${s.size}:${s.ino}` : 'missing';
    if (k !== key || !cached) {
      key = k;
      cached = readUsers(file);
      cached.catch(() => (key = ''));
    }
    return cached;
  };
}
