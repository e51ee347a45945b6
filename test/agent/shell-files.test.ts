import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { freshShellPerTest } from './shell-harness.js';

const t = freshShellPerTest('cp-shell-files-');

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('cd and cwd', () => {
  it('cd changes the shared cwd to the absolute directory and cwd reports it', async () => {
    await fs.mkdir(path.join(t.dir, 'sub'));
    expect(await t.sh.run('cd', ['sub'])).toEqual({ ok: true, code: 0, value: path.join(t.dir, 'sub') });
    expect(t.sh.state.cwd).toBe(path.join(t.dir, 'sub'));
    expect(await t.sh.run('cwd')).toMatchObject({ value: path.join(t.dir, 'sub') });
    expect(await t.sh.run('cd', ['..'])).toMatchObject({ value: t.dir });
  });

  it('cd without a path goes home', async () => {
    expect(await t.sh.run('cd')).toMatchObject({ ok: true, value: os.homedir() });
  });

  it('cd into a missing path or a file is a PATH error naming the path, and cwd stays', async () => {
    await fs.writeFile(path.join(t.dir, 'f'), 'x');
    const missing = await t.sh.run('cd', ['nope']);
    expect(missing).toMatchObject({ ok: false, error: 'PATH', code: 1 });
    expect((missing as { message: string }).message).toContain(path.join(t.dir, 'nope'));
    expect(await t.sh.run('cd', ['f'])).toMatchObject({ ok: false, error: 'PATH', message: expect.stringContaining('not a directory') });
    expect(t.sh.state.cwd).toBe(t.dir);
  });

  it('a number as a path (unquoted in a text command) is a directory name', async () => {
    await fs.mkdir(path.join(t.dir, '2024'));
    expect(await t.sh.runText('cd 2024')).toMatchObject({ ok: true, value: path.join(t.dir, '2024') });
  });
});

describe('ls', () => {
  it('lists dirs, files, links and others separately, sorted, hiding dot entries unless all=true', async () => {
    for (const d of ['zdir', 'adir', '.hdir']) await fs.mkdir(path.join(t.dir, d));
    for (const f of ['b.txt', 'a.txt', '.hidden']) await fs.writeFile(path.join(t.dir, f), '');
    await fs.symlink('a.txt', path.join(t.dir, 'link'));
    const r = await t.sh.run('ls');
    expect(r).toEqual({ ok: true, code: 0, value: { path: t.dir, dirs: ['adir', 'zdir'], files: ['a.txt', 'b.txt'], links: ['link'], others: [] } });
    const all = await t.sh.runText('ls . all=true');
    expect(all).toMatchObject({ value: { dirs: ['.hdir', 'adir', 'zdir'], files: ['.hidden', 'a.txt', 'b.txt'] } });
    expect(await t.sh.run('ls', ['.'], { all: 'true' })).toMatchObject({ value: { files: ['.hidden', 'a.txt', 'b.txt'] } });
  });

  it('ls of a file lists that file; a missing path is a PATH error', async () => {
    await fs.writeFile(path.join(t.dir, 'one'), '');
    expect(await t.sh.run('ls', ['one'])).toMatchObject({ value: { files: ['one'], dirs: [] } });
    expect(await t.sh.run('ls', ['missing'])).toMatchObject({ ok: false, error: 'PATH', message: expect.stringContaining('missing') });
  });

  it('rejects unknown options and non-boolean flags with BAD_ARGS', async () => {
    expect(await t.sh.run('ls', [], { al: true })).toMatchObject({ ok: false, error: 'BAD_ARGS', code: -1 });
    expect(await t.sh.run('ls', [], { all: 'yes' })).toMatchObject({ ok: false, error: 'BAD_ARGS' });
    expect(await t.sh.run('ls', ['a', 'b'])).toMatchObject({ ok: false, error: 'BAD_ARGS' });
  });
});

describe('mkdir', () => {
  it('creates a directory and returns its absolute path', async () => {
    expect(await t.sh.run('mkdir', ['new'])).toEqual({ ok: true, code: 0, value: path.join(t.dir, 'new') });
    expect((await fs.stat(path.join(t.dir, 'new'))).isDirectory()).toBe(true);
  });

  it('refuses missing parents and existing paths without parents=true', async () => {
    expect(await t.sh.run('mkdir', ['a/b/c'])).toMatchObject({ ok: false, error: 'PATH' });
    await fs.mkdir(path.join(t.dir, 'x'));
    expect(await t.sh.run('mkdir', ['x'])).toMatchObject({ ok: false, error: 'PATH', message: expect.stringContaining('already exists') });
  });

  it('parents=true creates the chain and accepts an existing directory, but not an existing file', async () => {
    expect(await t.sh.runText('mkdir a/b/c parents=true')).toMatchObject({ ok: true, value: path.join(t.dir, 'a/b/c') });
    expect(await t.sh.runText('mkdir a/b/c parents=true')).toMatchObject({ ok: true });
    await fs.writeFile(path.join(t.dir, 'file'), '');
    expect(await t.sh.run('mkdir', ['file'], { parents: true })).toMatchObject({ ok: false, error: 'PATH' });
  });

  it('an empty path is BAD_ARGS, a missing one says it is required', async () => {
    expect(await t.sh.run('mkdir', [''])).toMatchObject({ ok: false, error: 'BAD_ARGS', message: expect.stringContaining('empty') });
    expect(await t.sh.run('mkdir', [])).toMatchObject({ ok: false, error: 'BAD_ARGS', message: expect.stringContaining('path is required') });
  });
});

describe('rm', () => {
  it('removes files and empty directories', async () => {
    await fs.writeFile(path.join(t.dir, 'f'), '');
    await fs.mkdir(path.join(t.dir, 'empty'));
    expect(await t.sh.run('rm', ['f'])).toEqual({ ok: true, code: 0, value: { path: path.join(t.dir, 'f'), removed: true } });
    expect(await t.sh.run('rm', ['empty'])).toMatchObject({ ok: true });
    expect(await fs.readdir(t.dir)).toEqual([]);
  });

  it('refuses a non-empty directory without recursive=true, saying so, and removes it with it', async () => {
    await fs.mkdir(path.join(t.dir, 'full/deep'), { recursive: true });
    await fs.writeFile(path.join(t.dir, 'full/deep/f'), 'x');
    const r = await t.sh.run('rm', ['full']);
    expect(r).toMatchObject({ ok: false, error: 'PATH', message: expect.stringContaining('recursive=true') });
    expect(await fs.readdir(path.join(t.dir, 'full'))).toEqual(['deep']);
    expect(await t.sh.runText('rm full recursive=true')).toMatchObject({ ok: true, value: { removed: true } });
    expect(await fs.readdir(t.dir)).toEqual([]);
  });

  it('a missing path is a PATH error unless force=true', async () => {
    expect(await t.sh.run('rm', ['ghost'])).toMatchObject({ ok: false, error: 'PATH', message: expect.stringContaining('ghost') });
    expect(await t.sh.run('rm', ['ghost'], { force: true })).toMatchObject({ ok: true, value: { removed: false } });
  });

  it('removes a symlink, not what it points to', async () => {
    await fs.mkdir(path.join(t.dir, 'target'));
    await fs.writeFile(path.join(t.dir, 'target/keep'), 'x');
    await fs.symlink(path.join(t.dir, 'target'), path.join(t.dir, 'ln'));
    expect(await t.sh.run('rm', ['ln'])).toMatchObject({ ok: true });
    expect(await fs.readdir(path.join(t.dir, 'target'))).toEqual(['keep']);
  });

  it('refuses to remove a file-system root', async () => {
    // Without recursive on purpose: should the guard ever regress, rmdir('/') still fails harmlessly.
    expect(await t.sh.run('rm', [path.parse(t.dir).root])).toMatchObject({ ok: false, error: 'PATH', message: expect.stringContaining('root') });
  });
});

describe('touch', () => {
  it('creates a missing file and bumps the mtime of an existing one', async () => {
    expect(await t.sh.run('touch', ['t'])).toEqual({ ok: true, code: 0, value: { path: path.join(t.dir, 't'), created: true } });
    const old = new Date('2001-01-01T00:00:00Z');
    await fs.utimes(path.join(t.dir, 't'), old, old);
    await fs.writeFile(path.join(t.dir, 't'), 'keep');
    await fs.utimes(path.join(t.dir, 't'), old, old);
    expect(await t.sh.run('touch', ['t'])).toMatchObject({ value: { created: false } });
    const st = await fs.stat(path.join(t.dir, 't'));
    expect(st.mtimeMs).toBeGreaterThan(old.getTime());
    expect(await fs.readFile(path.join(t.dir, 't'), 'utf8')).toBe('keep');
  });

  it('touch in a missing directory is a PATH error', async () => {
    expect(await t.sh.run('touch', ['no/such/file'])).toMatchObject({ ok: false, error: 'PATH' });
  });
});
