// How the file commands honour a policy grant: the path is resolved through every symlink and must
// lie under the rule's roots (Salt CVE-2020-11652: `../` walked out of the file roots), and files
// are opened so a link swapped in after the check is refused (agent/policy/paths.ts). Without a
// grant's roots (no policy, simple mode) paths are used as given.
import { confine, openChecked, PathDenied, type ConfinedFile, type OpenHow, type Reach } from '../policy/paths.js';
import { CommandError, type CommandContext } from '../registry.js';
import { pathError } from './paths.js';

export type Access = 'read' | 'write';

function rootsFor(ctx: CommandContext<unknown, unknown>, access: Access): string[] | undefined {
  const roots = ctx.grant?.roots;
  if (!roots) return undefined;
  // Write roots are readable too (docs/policy.md).
  return access === 'write' ? roots.write : [...roots.read, ...roots.write];
}

function denied(err: unknown, p: string): never {
  if (err instanceof PathDenied) throw new CommandError('DENIED', err.message);
  throw pathError(err, p);
}

/** The path to act on: its real path under the grant's roots, or `p` itself when unconfined. */
export async function confined(ctx: CommandContext<unknown, unknown>, p: string, access: Access, reach: Reach = 'follow'): Promise<string> {
  const roots = rootsFor(ctx, access);
  if (!roots) return p;
  try {
    return await confine(p, roots, reach);
  } catch (err) {
    denied(err, p);
  }
}

/** Opens a regular file under the grant's roots (no symlink race); undefined when unconfined. */
export async function openUnderRoots(ctx: CommandContext<unknown, unknown>, p: string, access: Access, how: OpenHow = {}): Promise<ConfinedFile | undefined> {
  const roots = rootsFor(ctx, access);
  if (!roots) return undefined;
  try {
    return await openChecked(await confine(p, roots, 'follow'), roots, how);
  } catch (err) {
    denied(err, p);
  }
}
