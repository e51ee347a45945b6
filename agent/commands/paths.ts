// Path resolution and file-system error mapping for the built-in commands: every fs failure becomes
// a PATH error that names the path and says what is wrong, never a raw errno string.
import * as os from 'node:os';
import * as path from 'node:path';
import { CommandError } from '../registry.js';

/** Resolves `p` against the job's cwd; a leading `~` means the agent user's home directory. */
export function resolvePath(cwd: string, p: string): string {
  if (p === '~') return os.homedir();
  if (p.startsWith('~/') || (process.platform === 'win32' && p.startsWith('~\\'))) return path.join(os.homedir(), p.slice(2));
  return path.resolve(cwd, p);
}

const REASONS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  ENOTDIR: 'a component of the path is not a directory',
  EISDIR: 'is a directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTEMPTY: 'directory is not empty',
  EEXIST: 'already exists',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'name too long',
  EBUSY: 'resource busy or locked',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  EMFILE: 'too many open files',
  EINVAL: 'invalid argument',
};

/** Turns a Node fs error into CommandError('PATH') naming the path; an error without an errno code is FAILED. */
export function pathError(err: unknown, p: string): CommandError {
  if (err instanceof CommandError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code && Object.hasOwn(REASONS, code)) return new CommandError('PATH', `${p}: ${REASONS[code]} (${code})`);
  const message = err instanceof Error ? err.message : String(err);
  return new CommandError(code ? 'PATH' : 'FAILED', `${p}: ${message}`);
}

/** Runs an fs operation, mapping its errors to PATH errors about `p`. */
export async function onPath<T>(p: string, op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    throw pathError(err, p);
  }
}
