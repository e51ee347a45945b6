// Node ≥ 22.1 can keep the code V8 compiled for each module on disk (module.enableCompileCache,
// https://nodejs.org/api/module.html#module-compile-cache): a cold `conplyent` then reads ~350
// compiled modules (zod's 95 files, mqtt.js and its dependencies, ours) instead of compiling them
// again, which was the largest share of a cold `exec` after module resolution. Node 20 has no such
// cache and runs as before.
import * as mod from 'node:module';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';

type Enable = (dir?: string) => { status: number; message?: string; directory?: string };

/** `$XDG_CACHE_HOME/conplyent/compile-cache`, else `~/.cache/conplyent/compile-cache` (XDG Base Directory spec: a relative XDG_CACHE_HOME is ignored). */
export function compileCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  return join(xdg && isAbsolute(xdg) ? xdg : join(homedir(), '.cache'), 'conplyent', 'compile-cache');
}

/**
 * Turns the cache on where Node has it. Never fails the command: a cache directory that cannot be
 * made (read-only home, HOME unset) leaves the process without a cache, as on Node 20, rather than
 * falling back to a shared directory such as /tmp, where another user could plant compiled code.
 * NODE_DISABLE_COMPILE_CACHE=1 turns it off (Node's own switch); NODE_COMPILE_CACHE, when set, wins.
 */
export function enableCompileCache(): void {
  const enable = (mod as { enableCompileCache?: Enable }).enableCompileCache;
  if (typeof enable !== 'function') return;
  try {
    enable(compileCacheDir());
  } catch {
    // A throwing homedir() or an unexpected failure inside Node: run uncached.
  }
}
