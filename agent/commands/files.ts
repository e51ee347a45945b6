// File-system commands of the Conplyent Shell: cd, cwd, ls, mkdir, rm, touch. Pure Node fs, so they
// behave the same on every OS; every failure is a PATH error naming the path.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { lazySchema } from '../../protocol/lazy-schema.js';
import { CommandError, type CommandRegistry } from '../registry.js';
import { flag, name } from './schemas.js';
import { onPath, resolvePath } from './paths.js';
import { confined } from './confined.js';
import { protectedTree } from './protected.js';

const noOpts = lazySchema(() => z.object({}).strict());

/** What `ls` returns: entry names by kind, each list sorted (the original's dirs/files/links, plus others). */
export interface Listing {
  path: string;
  dirs: string[];
  files: string[];
  links: string[];
  others: string[];
}

async function list(dir: string, all: boolean): Promise<Listing> {
  const st = await onPath(dir, () => fs.lstat(dir));
  const out: Listing = { path: dir, dirs: [], files: [], links: [], others: [] };
  if (!st.isDirectory()) {
    // `ls file` lists the file itself, as a UNIX ls does.
    const bucket = st.isSymbolicLink() ? out.links : st.isFile() ? out.files : out.others;
    bucket.push(path.basename(dir));
    return out;
  }
  const entries = await onPath(dir, () => fs.readdir(dir, { withFileTypes: true }));
  for (const e of entries) {
    if (!all && e.name.startsWith('.')) continue;
    if (e.isSymbolicLink()) out.links.push(e.name);
    else if (e.isDirectory()) out.dirs.push(e.name);
    else if (e.isFile()) out.files.push(e.name);
    else out.others.push(e.name);
  }
  for (const names of [out.dirs, out.files, out.links, out.others]) names.sort();
  return out;
}

async function remove(target: string, recursive: boolean, force: boolean): Promise<boolean> {
  let st;
  try {
    st = await fs.lstat(target);
  } catch (err) {
    if (force && (err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  if (!st.isDirectory()) await fs.unlink(target);
  else if (recursive) await fs.rm(target, { recursive: true, force });
  else {
    try {
      await fs.rmdir(target);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOTEMPTY' || code === 'EEXIST') {
        throw new CommandError('PATH', `${target}: directory is not empty; pass recursive=true to remove it and everything in it`);
      }
      throw err;
    }
  }
  return true;
}

export function registerFileCommands(registry: CommandRegistry): void {
  registry.register(
    'foreground',
    'cd',
    async (ctx) => {
      const target = await confined(ctx, resolvePath(ctx.cwd, ctx.args[0] ?? '~'), 'read');
      const st = await onPath(target, () => fs.stat(target));
      if (!st.isDirectory()) throw new CommandError('PATH', `${target}: not a directory`);
      ctx.agent.setCwd(target, ctx.session);
      return target;
    },
    {
      args: lazySchema(() => z.tuple([name('path').optional()])),
      opts: noOpts,
      usage: '[path]',
      summary: "Changes the current directory of the command's session, or the shared one without a session (home when no path); returns the new absolute path",
    },
  );

  registry.register('foreground', 'cwd', (ctx) => ctx.cwd, {
    args: lazySchema(() => z.tuple([])),
    opts: noOpts,
    usage: '',
    summary: 'Returns the current directory',
  });

  registry.register('foreground', 'ls', async (ctx) => list(await confined(ctx, resolvePath(ctx.cwd, ctx.args[0] ?? '.'), 'read', 'entry'), ctx.opts.all ?? false), {
    args: lazySchema(() => z.tuple([name('path').optional()])),
    opts: lazySchema(() => z.object({ all: flag }).strict()),
    usage: '[path] [all=true]',
    summary: 'Lists a directory as {path, dirs, files, links, others}, each sorted; all=true includes hidden entries',
  });

  registry.register(
    'foreground',
    'mkdir',
    async (ctx) => {
      const target = await confined(ctx, resolvePath(ctx.cwd, ctx.args[0]), 'write');
      await onPath(target, () => fs.mkdir(target, { recursive: ctx.opts.parents ?? false }));
      // mkdir -p on an existing file succeeds in Node on some platforms; a file is not a directory.
      const st = await onPath(target, () => fs.stat(target));
      if (!st.isDirectory()) throw new CommandError('PATH', `${target}: already exists and is not a directory`);
      return target;
    },
    {
      args: lazySchema(() => z.tuple([name('path')])),
      opts: lazySchema(() => z.object({ parents: flag }).strict()),
      usage: '<path> [parents=true]',
      summary: 'Creates a directory; parents=true creates missing parents and accepts an existing directory',
    },
  );

  registry.register(
    'foreground',
    'rm',
    async (ctx) => {
      const target = await confined(ctx, resolvePath(ctx.cwd, ctx.args[0]), 'write', 'entry');
      if (target === path.parse(target).root) throw new CommandError('PATH', `${target}: refusing to remove a file-system root`);
      // Before any unlink: one slip (or one stolen controller login) must not empty /etc or /usr.
      const tree = await protectedTree(target);
      if (tree && !ctx.opts.force) throw new CommandError('DENIED', `DENIED: ${target}${tree === target ? '' : ` (resolves to ${tree})`} is a system directory; rm refuses it unless force=true`);
      const removed = await onPath(target, () => remove(target, ctx.opts.recursive ?? false, ctx.opts.force ?? false));
      return { path: target, removed };
    },
    {
      args: lazySchema(() => z.tuple([name('path')])),
      opts: lazySchema(() => z.object({ recursive: flag, force: flag }).strict()),
      usage: '<path> [recursive=true] [force=true]',
      summary:
        'Removes a file or empty directory; recursive=true removes a directory tree; force=true ignores a missing path and allows system directories (/etc, /usr…)',
    },
  );

  registry.register(
    'foreground',
    'touch',
    async (ctx) => {
      const target = await confined(ctx, resolvePath(ctx.cwd, ctx.args[0]), 'write');
      return onPath(target, async () => {
        // 'wx' tells creation from an existing file atomically; then bump the times like touch(1).
        let created = true;
        try {
          await (await fs.open(target, 'wx')).close();
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
          created = false;
          const now = new Date();
          await fs.utimes(target, now, now);
        }
        return { path: target, created };
      });
    },
    {
      args: lazySchema(() => z.tuple([name('path')])),
      opts: noOpts,
      usage: '<path>',
      summary: "Creates an empty file, or sets an existing file's modification time to now",
    },
  );
}
