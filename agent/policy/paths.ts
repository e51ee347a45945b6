// Path confinement after symlinks are resolved. Salt CVE-2020-11652 joined request paths onto a
// root and checked nothing: `../` and absolute paths walked out. Checking the string is not enough
// either: a symlink inside a root (or /proc/self/root) points anywhere, and a link swapped in after
// the check wins the race. So: realpath, compare whole segments, open with O_NOFOLLOW, and check
// again what was actually opened (/proc/self/fd/N on Linux, dev/ino elsewhere).
import { constants, promises as fs, type Stats } from 'node:fs';
import * as path from 'node:path';
import { isInside } from './evaluate.js';

/** A path outside every root (or unusable for confinement); `code` is the wire error code. */
export class PathDenied extends Error {
  override name = 'PathDenied';
  readonly code = 'DENIED';
}

/** How a command touches its path: through it (`follow`), or the directory entry itself (`entry`: rm, ls of a link). */
export type Reach = 'follow' | 'entry';

/** Realpaths of the roots, so a root that is itself a symlink compares by what it points to. */
export async function realRoots(roots: readonly string[]): Promise<string[]> {
  return Promise.all(roots.map((r) => fs.realpath(r)));
}

/**
 * Resolves `p` (absolute) through every symlink and returns the real path if it lies under one of
 * `roots` (already realpath'd); throws PathDenied otherwise. A path that does not exist yet is the
 * realpath of its longest existing prefix plus the rest, so creating it cannot land elsewhere.
 */
export async function confine(p: string, roots: readonly string[], reach: Reach = 'follow'): Promise<string> {
  if (p.includes('\0')) throw new PathDenied(`DENIED: a path must not contain NUL`);
  const abs = path.resolve(p);
  const real = reach === 'entry' && abs !== path.parse(abs).root ? path.join(await resolve(path.dirname(abs)), path.basename(abs)) : await resolve(abs);
  if (!roots.some((root) => isInside(real, root))) {
    const via = real === abs ? '' : ` (resolves to ${real})`;
    throw new PathDenied(`DENIED: ${abs}${via} is outside the allowed roots ${roots.join(', ') || '(none)'}`);
  }
  return real;
}

async function resolve(abs: string): Promise<string> {
  try {
    return await fs.realpath(abs);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') throw new PathDenied(`DENIED: ${abs} cannot be resolved (${code ?? String(err)})`);
  }
  // A dangling symlink: creating through it would create its target, wherever that is.
  const st = await fs.lstat(abs).catch(() => undefined);
  if (st?.isSymbolicLink()) throw new PathDenied(`DENIED: ${abs} is a symbolic link to a missing target`);
  const parent = path.dirname(abs);
  if (parent === abs) return abs;
  return path.join(await resolve(parent), path.basename(abs));
}

export interface OpenHow {
  write?: boolean;
  /** Create the file when missing. */
  create?: boolean;
  /** Fail when it exists (touch's atomic creation). */
  exclusive?: boolean;
  /** Empty the file, done only after the re-check so a swapped link truncates nothing. */
  truncate?: boolean;
  append?: boolean;
}

export interface ConfinedFile {
  handle: fs.FileHandle;
  /** The real path that was checked and opened. */
  path: string;
  stat: Stats;
}

// Windows has neither flag; there the re-check by dev/ino is the only guard.
const O_NOFOLLOW = constants.O_NOFOLLOW ?? 0;
const O_NONBLOCK = constants.O_NONBLOCK ?? 0;

/**
 * Opens a regular file under `roots` without a check-then-use race: O_NOFOLLOW refuses a last
 * component that became a symlink, the re-check catches a directory above it that did, and
 * O_NONBLOCK keeps a FIFO planted at the path from blocking a file thread (it is then refused).
 */
export async function openConfined(p: string, roots: readonly string[], how: OpenHow = {}): Promise<ConfinedFile> {
  return openChecked(await confine(p, roots, 'follow'), roots, how);
}

/** Opens a path confine() already returned; anything that changed since is refused. */
export async function openChecked(real: string, roots: readonly string[], how: OpenHow = {}): Promise<ConfinedFile> {
  let flags = (how.write ? constants.O_RDWR : constants.O_RDONLY) | O_NOFOLLOW | O_NONBLOCK;
  if (how.create) flags |= constants.O_CREAT;
  if (how.exclusive) flags |= constants.O_EXCL;
  if (how.append) flags |= constants.O_APPEND;
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(real, flags, 0o644);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw new PathDenied(`DENIED: ${real} became a symbolic link after it was checked`);
    throw err;
  }
  try {
    const opened = await handle.stat();
    await recheck(handle, real, opened, roots);
    if (!opened.isFile()) throw new PathDenied(`DENIED: ${real} is not a regular file`);
    if (how.truncate) await handle.truncate(0);
    return { handle, path: real, stat: opened };
  } catch (err) {
    await handle.close();
    throw err;
  }
}

async function recheck(handle: fs.FileHandle, real: string, opened: Stats, roots: readonly string[]): Promise<void> {
  let actual: string | undefined;
  try {
    actual = await fs.readlink(`/proc/self/fd/${handle.fd}`);
  } catch {
    actual = undefined; // no procfs: compare identities instead
  }
  if (actual !== undefined) {
    if (actual === real && roots.some((root) => isInside(actual!, root))) return;
    throw new PathDenied(`DENIED: ${real} changed while it was opened (opened ${actual}); refused`);
  }
  const now = await fs.stat(real).catch(() => undefined);
  if (!now || now.dev !== opened.dev || now.ino !== opened.ino) throw new PathDenied(`DENIED: ${real} changed while it was opened; refused`);
}
