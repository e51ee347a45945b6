// Loading and reloading the policy file for real: start-up errors are one line, a bad edit keeps the
// old policy (and says why), a good edit or SIGHUP brings the new one in.
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadPolicy, PolicyLoader } from '../../../agent/policy/loader.js';
import { PolicyError, type Policy } from '../../../agent/policy/schema.js';
import { newKey } from './keys.js';

const ops = newKey();
let dir: string;
let loader: PolicyLoader | undefined;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cp-policy-'));
  mkdirSync(join(dir, 'www'));
  symlinkSync(join(dir, 'www'), join(dir, 'www-link'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => {
  loader?.close();
  loader = undefined;
});

const rule = (commands: string[]) => ({ keys: { ops: ops.pub }, rules: [{ name: 'r', keys: ['ops'], commands, files: { read: [join(dir, 'www-link')] } }] });

async function waitFor(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  for (const end = Date.now() + ms; !ok(); ) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('loadPolicy', () => {
  it.each([
    ['{ not json', 'is not valid JSON'],
    [JSON.stringify({ keys: { ops: 'x' } }), 'keys.ops: not a public key'],
    [JSON.stringify({ keys: { ops: ops.pub }, rules: [{ name: 'r', keys: ['ops'], commands: ['ls'], files: { read: ['/no/such/root'] } }] }), 'rule r: root /no/such/root cannot be resolved (ENOENT)'],
  ])('an invalid file %s fails with one line naming the file', async (text, message) => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, text);
    const err = await loadPolicy(file).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(PolicyError);
    expect((err as Error).message).toMatch(new RegExp(`^policy ${file}: `));
    expect((err as Error).message).toContain(message);
    expect((err as Error).message).not.toContain('\n');
  });

  it('a missing file says it cannot be read', async () => {
    await expect(loadPolicy(join(dir, 'missing.json'))).rejects.toThrow('cannot be read (ENOENT)');
  });

  it('roots are resolved: a root given as a symlink confines by its target', async () => {
    const file = join(dir, 'roots.json');
    writeFileSync(file, JSON.stringify(rule(['ls'])));
    const { policy } = await loadPolicy(file);
    expect(policy.rules![0].realRead).toEqual([join(dir, 'www')]);
    expect(policy.rules![0].read).toEqual([join(dir, 'www-link'), join(dir, 'www')]);
  });
});

describe('PolicyLoader', () => {
  it('an invalid edit keeps the old policy and reports why; a valid edit takes effect', async () => {
    const file = join(dir, 'watched.json');
    writeFileSync(file, JSON.stringify(rule(['ls'])));
    const reloaded: Policy[] = [];
    const errors: PolicyError[] = [];
    loader = new PolicyLoader({ file, sighup: false, debounceMs: 50, pollMs: 200, onReload: (p) => reloaded.push(p), onError: (e) => errors.push(e) });
    const first = await loader.start();
    writeFileSync(file, '{"keys": ');
    await waitFor('the error report', () => errors.length > 0);
    expect(errors[0].message).toContain('is not valid JSON');
    expect(loader.current).toBe(first);
    // Replaced by rename, as editors and config managers do.
    writeFileSync(join(dir, 'watched.tmp'), JSON.stringify(rule(['ls', 'rdfile'])));
    renameSync(join(dir, 'watched.tmp'), file);
    await waitFor('the reload', () => reloaded.length > 0);
    expect(loader.current).toBe(reloaded.at(-1));
    expect(loader.current.rules![0].commands!.has('rdfile')).toBe(true);
  });

  it('SIGHUP reloads', async () => {
    const file = join(dir, 'hup.json');
    writeFileSync(file, JSON.stringify(rule(['ls'])));
    const reloaded: Policy[] = [];
    // Watching off in effect (long debounce, slow poll): only the signal can bring the change in.
    loader = new PolicyLoader({ file, debounceMs: 60_000, pollMs: 60_000, onReload: (p) => reloaded.push(p) });
    await loader.start();
    writeFileSync(file, JSON.stringify(rule(['ls', 'hash'])));
    process.kill(process.pid, 'SIGHUP');
    await waitFor('the SIGHUP reload', () => reloaded.length > 0);
    expect(reloaded[0].rules![0].commands!.has('hash')).toBe(true);
  });

  it('start() on an invalid file throws PolicyError', async () => {
    const file = join(dir, 'invalid-start.json');
    writeFileSync(file, JSON.stringify({ rules: [{ name: 'r' }] }));
    loader = new PolicyLoader({ file, sighup: false });
    await expect(loader.start()).rejects.toThrow(PolicyError);
  });
});
