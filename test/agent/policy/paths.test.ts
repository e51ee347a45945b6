// Path confinement on real directories and symlinks: every escape of Salt CVE-2020-11652's write-up
// (traversal in each path argument, absolute paths, encoded variants as they reach us), symlinks out
// of a root, /proc/self/root, and a symlink swapped in between the check and the open.
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, renameSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { confine, openChecked, openConfined, PathDenied, realRoots } from '../../../agent/policy/paths.js';
import { evaluate } from '../../../agent/policy/evaluate.js';
import { parsePolicy } from '../../../agent/policy/schema.js';
import { newKey } from './keys.js';

let base: string;
let root: string; // the granted root
let outside: string; // a sibling the attacker wants
let roots: string[];

beforeAll(async () => {
  base = realpathSync(mkdtempSync(join(tmpdir(), 'cp-paths-')));
  root = join(base, 'app');
  outside = join(base, 'app2');
  mkdirSync(join(root, 'sub'), { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(root, 'sub', 'ok.txt'), 'inside');
  writeFileSync(join(outside, 'secret'), 'SECRET');
  symlinkSync(outside, join(root, 'to-outside'));
  symlinkSync('/proc/self/root', join(root, 'proc-root'));
  symlinkSync(join(outside, 'new-file'), join(root, 'dangling'));
  symlinkSync(join(root, 'sub', 'ok.txt'), join(root, 'inner-link'));
  roots = await realRoots([root]);
});

afterAll(() => rmSync(base, { recursive: true, force: true }));

async function denied(p: string, reach: 'follow' | 'entry' = 'follow'): Promise<string> {
  const err = await confine(p, roots, reach).then(() => undefined, (e: unknown) => e);
  expect(err, p).toBeInstanceOf(PathDenied);
  return (err as Error).message;
}

describe('confine: CVE-2020-11652 traversal strings, resolved the way a command resolves them', () => {
  // What path.resolve(cwd, arg) hands us for each exploit string, with cwd inside the root.
  const cwd = () => join(root, 'sub');
  const escapes = ['../../app2/secret', '../../../../../../etc/shadow', '/etc/shadow', '//etc/shadow', '/srv/../etc/shadow', './../../app2/secret', `${'../'.repeat(40)}etc/passwd`];
  it.each(escapes)('%s is outside', async (arg) => {
    await denied(resolve(cwd(), arg));
  });

  it('traversal in the second path-bearing input (the cwd, like saltenv) is caught too', async () => {
    await denied(join(root, '..', 'app2', 'secret'));
    expect(evaluate(policyFor(root), request('rdfile', ['secret'], join(root, '..', 'app2'))).allow).toBe(false);
  });

  it('percent-encoded, backslashed and look-alike dots are literal names here: they stay inside', async () => {
    // Nothing between MQTT and fs decodes them, so each is one odd file name below the root.
    for (const arg of ['%2e%2e%2f%2e%2e%2fetc%2fshadow', '..%2f..%2fetc', '..\\..\\etc\\shadow', '....//....//etc', '\u2025/\u2025/etc', '..%c0%af..%c0%afetc']) {
      const real = await confine(join(root, 'sub', arg), roots);
      expect(real.startsWith(root + '/'), arg).toBe(true);
    }
  });

  it('NUL is refused before the file system sees it', async () => {
    expect(await denied(`${root}/ok\0/../../app2/secret`)).toBe('DENIED: a path must not contain NUL');
  });

  it('a sibling whose name extends the root is not inside it (/srv/app2 vs /srv/app)', async () => {
    expect(await denied(join(outside, 'secret'))).toContain('is outside the allowed roots');
  });
});

describe('confine: symlinks', () => {
  it('a symlink inside the root that points out is followed, then refused', async () => {
    expect(await denied(join(root, 'to-outside', 'secret'))).toContain(`(resolves to ${join(outside, 'secret')})`);
  });

  it('/proc/self/root inside a root resolves to / and is refused', async () => {
    await denied(join(root, 'proc-root', 'etc', 'passwd'));
    await denied('/proc/self/root' + root + '/../app2/secret');
  });

  it('a dangling symlink is refused for creation (its target would be created outside)', async () => {
    expect(await denied(join(root, 'dangling'))).toContain('is a symbolic link to a missing target');
  });

  it('a path to be created resolves through its longest existing prefix', async () => {
    expect(await confine(join(root, 'sub', 'new', 'deeper.txt'), roots)).toBe(join(root, 'sub', 'new', 'deeper.txt'));
    await denied(join(root, 'to-outside', 'new', 'x.txt'));
  });

  it('entry reach checks the link itself: rm of a link pointing out removes the link, inside the root', async () => {
    expect(await confine(join(root, 'to-outside'), roots, 'entry')).toBe(join(root, 'to-outside'));
    await denied(join(root, 'to-outside', 'secret'), 'entry');
  });

  it('a root that is itself a symlink is compared by what it points to', async () => {
    const alias = join(base, 'alias');
    symlinkSync(root, alias);
    const viaAlias = await realRoots([alias]);
    expect(viaAlias).toEqual([root]);
    expect(await confine(join(alias, 'sub', 'ok.txt'), viaAlias)).toBe(join(root, 'sub', 'ok.txt'));
    await expect(confine(join(alias, '..', 'app2', 'secret'), viaAlias)).rejects.toBeInstanceOf(PathDenied);
  });
});

describe('openConfined: no check-then-use race', () => {
  it('opens a file inside and reads it', async () => {
    const f = await openConfined(join(root, 'inner-link'), roots);
    try {
      expect(f.path).toBe(join(root, 'sub', 'ok.txt'));
      expect((await f.handle.readFile()).toString()).toBe('inside');
    } finally {
      await f.handle.close();
    }
  });

  it('a last component swapped for a symlink after the check is refused (O_NOFOLLOW); the outside file is untouched', async () => {
    const victim = join(root, 'sub', 'swap.txt');
    writeFileSync(victim, 'mine');
    const real = await confine(victim, roots);
    rmSync(victim);
    symlinkSync(join(outside, 'secret'), victim);
    await expect(openChecked(real, roots, { write: true, truncate: true })).rejects.toThrow('became a symbolic link after it was checked');
    expect(readFileSync(join(outside, 'secret'), 'utf8')).toBe('SECRET');
  });

  it('a directory above it swapped for a symlink after the check is refused by re-checking the opened file', async () => {
    const dir = join(root, 'race');
    mkdirSync(dir);
    writeFileSync(join(dir, 'secret'), 'decoy');
    const real = await confine(join(dir, 'secret'), roots);
    renameSync(dir, join(root, 'race-old'));
    symlinkSync(outside, dir);
    await expect(openChecked(real, roots, { write: true, truncate: true })).rejects.toThrow('changed while it was opened');
    expect(readFileSync(join(outside, 'secret'), 'utf8')).toBe('SECRET');
  });

  it('a FIFO planted at the path is refused without blocking', async () => {
    const fifo = join(root, 'sub', 'pipe');
    execFileSync('mkfifo', [fifo]);
    await expect(openConfined(fifo, roots)).rejects.toThrow('is not a regular file');
  });

  it('creates a new file inside; refuses a directory', async () => {
    const f = await openConfined(join(root, 'sub', 'created.txt'), roots, { write: true, create: true, exclusive: true });
    await f.handle.close();
    expect(existsSync(join(root, 'sub', 'created.txt'))).toBe(true);
    await expect(openConfined(join(root, 'sub'), roots)).rejects.toThrow(/is not a regular file|EISDIR/);
  });
});

const ops = newKey();
function policyFor(r: string) {
  return parsePolicy({ keys: { ops: ops.pub }, rules: [{ name: 'files', keys: ['ops'], commands: ['rdfile'], files: { read: [r] } }] });
}
function request(cmd: string, args: unknown[], cwd: string) {
  return { kid: ops.kid, cmd, args, opts: {}, cwd, host: 'h', labels: {}, runningJobs: { total: 0, byRule: {} } };
}
