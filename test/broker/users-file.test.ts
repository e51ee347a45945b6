// The users file: scrypt hashes with random salts, strict names, atomic 0600 writes.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { addUser, listUsers, removeUser, verifyUser } from '../../broker/index.js';

const dir = mkdtempSync(join(tmpdir(), 'conplyent-users-test-'));
const file = join(dir, 'users.json');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('users file', () => {
  it('adds users with hashed passwords only, and lists them without hashes', async () => {
    await addUser(file, 'web-1', 'agent', 'secret-1');
    await addUser(file, 'ops', 'controller', 'secret-1');
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain('secret-1');
    const { users } = JSON.parse(text);
    expect(users['web-1'].hash).toMatch(/^scrypt\$/);
    // Random salt: the same password never gives the same hash.
    expect(users['web-1'].hash).not.toBe(users.ops.hash);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(await listUsers(file)).toEqual([
      { name: 'ops', role: 'controller' },
      { name: 'web-1', role: 'agent' },
    ]);
  });

  it('verifies the right password only', async () => {
    expect(await verifyUser(file, 'web-1', 'secret-1')).toBe('agent');
    expect(await verifyUser(file, 'web-1', 'secret-2')).toBeUndefined();
    expect(await verifyUser(file, 'nobody', 'secret-1')).toBeUndefined();
    expect(await verifyUser(file, 'constructor', 'x')).toBeUndefined();
    expect(await verifyUser(file, '__proto__', 'x')).toBeUndefined();
  });

  it('replaces a user on add and removes it on remove', async () => {
    await addUser(file, 'web-1', 'observer', 'new-pw');
    expect(await verifyUser(file, 'web-1', 'new-pw')).toBe('observer');
    expect(await removeUser(file, 'web-1')).toBe(true);
    expect(await removeUser(file, 'web-1')).toBe(false);
    expect((await listUsers(file)).map((u) => u.name)).toEqual(['ops']);
  });

  it('refuses names with wildcards, separators, $ or NUL, and agents that are not host names', async () => {
    for (const name of ['a+b', 'a#', 'a/b', '$SYS', 'a\u0000b', '', '_all', 'x'.repeat(65), 'a:b']) {
      await expect(addUser(file, name, 'controller', 'pw'), JSON.stringify(name)).rejects.toThrow(TypeError);
    }
    await expect(addUser(file, 'ctl@ops', 'agent', 'pw')).rejects.toThrow(/valid host name/);
    await addUser(file, 'ctl@ops', 'controller', 'pw');
    await expect(addUser(file, 'x', 'admin' as never, 'pw')).rejects.toThrow(/role/);
    await expect(addUser(file, 'y', 'agent', '')).rejects.toThrow(/password/);
  });

  it('reads a missing file as empty and names a broken one', async () => {
    expect(await listUsers(join(dir, 'missing.json'))).toEqual([]);
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{not json');
    await expect(listUsers(broken)).rejects.toThrow(/broken\.json is not valid JSON/);
    writeFileSync(broken, JSON.stringify({ users: { 'web/+': { role: 'agent', hash: 'scrypt$x' } } }));
    await expect(listUsers(broken)).rejects.toThrow(/"web\/\+" must be a valid host name/);
  });
});
