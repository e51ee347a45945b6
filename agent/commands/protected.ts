// System trees `rm` will not remove without force=true, policy or not: a typo (`rm / recursive=true`
// from a script with an empty variable) or one stolen controller login would otherwise empty /etc
// on every host. The tree itself is refused, not what lies below it (/etc/nginx/old.conf is fine).
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

const TREES: ReadonlySet<string> = new Set([
  '/', '/bin', '/boot', '/dev', '/etc', '/home', '/lib', '/lib32', '/lib64', '/libx32', '/media', '/mnt', '/opt',
  '/proc', '/root', '/run', '/sbin', '/srv', '/sys', '/usr', '/usr/bin', '/usr/include', '/usr/lib', '/usr/lib32',
  '/usr/lib64', '/usr/libexec', '/usr/local', '/usr/sbin', '/usr/share', '/var', '/var/cache', '/var/lib', '/var/log',
  '/var/spool',
]);

/** The protected tree `target` is (as written, or once symlinks are resolved), or undefined. */
export async function protectedTree(target: string): Promise<string | undefined> {
  if (process.platform === 'win32') return undefined;
  const lexical = path.resolve(target);
  if (TREES.has(lexical)) return lexical;
  // Through a symlinked parent (/tmp/l/etc with /tmp/l -> /) the directory removed is /etc; a link
  // itself (/tmp/x -> /etc) is only unlinked, which is harmless.
  if (!(await isDir(lexical))) return undefined;
  const real = await fs.realpath(lexical).catch(() => undefined);
  return real !== undefined && TREES.has(real) ? real : undefined;
}

async function isDir(p: string): Promise<boolean> {
  const st = await fs.lstat(p).catch(() => undefined);
  return st?.isDirectory() ?? false;
}
