// Node's compile cache for the CLI (cli/compile-cache.ts): where Node has it (≥ 22.1) a run leaves
// compiled modules under the user's cache home; a cache home that cannot be made never fails the
// command; a relative XDG_CACHE_HOME is ignored, as the XDG Base Directory spec says.
import { spawnSync } from 'node:child_process';
import * as mod from 'node:module';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { compileCacheDir } from '../../cli/compile-cache.js';
import { ensureBuilt, MAIN } from './run-cli.js';

const hasCache = typeof (mod as { enableCompileCache?: unknown }).enableCompileCache === 'function';
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function help(cacheHome: string) {
  return spawnSync(process.execPath, [MAIN, 'exec', '--help'], {
    encoding: 'utf8',
    timeout: 30_000,
    // NODE_COMPILE_CACHE from the caller would win over ours; the test wants ours.
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/nonexistent', XDG_CACHE_HOME: cacheHome },
  });
}

describe('cli/compile-cache.ts', () => {
  it('puts the cache under $XDG_CACHE_HOME/conplyent, else ~/.cache/conplyent; a relative XDG_CACHE_HOME is ignored', () => {
    expect(compileCacheDir({ XDG_CACHE_HOME: '/var/cache/u' })).toBe('/var/cache/u/conplyent/compile-cache');
    expect(compileCacheDir({ XDG_CACHE_HOME: 'rel/dir' })).toBe(join(homedir(), '.cache', 'conplyent', 'compile-cache'));
    expect(compileCacheDir({})).toBe(join(homedir(), '.cache', 'conplyent', 'compile-cache'));
  });

  it.runIf(hasCache)('a run leaves compiled modules in the cache, and the next run still works from it', () => {
    ensureBuilt();
    const home = mkdtempSync(join(tmpdir(), 'conplyent-cc-'));
    dirs.push(home);
    const first = help(home);
    expect(first.status, first.stderr).toBe(0);
    const cache = join(home, 'conplyent', 'compile-cache');
    // Node keeps one subdirectory per Node version and V8 flags, holding the compiled modules.
    const entries = readdirSync(cache).flatMap((v) => readdirSync(join(cache, v)));
    expect(entries.length).toBeGreaterThan(10);
    const second = help(home);
    expect(second.status, second.stderr).toBe(0);
    expect(second.stdout).toBe(first.stdout);
  });

  it('a cache home that cannot be made leaves the command uncached, not failed', () => {
    ensureBuilt();
    const dir = mkdtempSync(join(tmpdir(), 'conplyent-cc-'));
    dirs.push(dir);
    const file = join(dir, 'not-a-dir');
    writeFileSync(file, 'x');
    const r = help(file);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('Usage: conplyent exec');
    expect(r.stderr).toBe('');
  });
});
