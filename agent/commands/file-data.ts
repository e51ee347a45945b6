// File content commands: wrfile (binary-safe, chunked uploads by offset), hash, and the background
// rdfile that streams a file through the job's output with backpressure (never the whole file in memory).
import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import { z } from 'zod';
import { lazySchema } from '../../protocol/lazy-schema.js';
import { MAX_CHUNK_BYTES } from '../../protocol/index.js';
import { CommandError, type CommandRegistry } from '../registry.js';
import { count, decodeData, encoding, flag, name, strOrBytes } from './schemas.js';
import { onPath, pathError, resolvePath } from './paths.js';
import { openUnderRoots } from './confined.js';
import { OpenUploads } from './open-uploads.js';
import type { ConfinedFile } from '../policy/paths.js';

interface WriteOpts {
  append?: boolean;
  encoding?: 'utf8' | 'base64';
  offset?: number;
  truncate?: boolean;
}

/** A whole-file write or append by path (no offset); the file's size after it. */
async function writeWhole(target: string, bytes: Buffer, append: boolean | undefined): Promise<number> {
  await writableTarget(target);
  await fs.writeFile(target, bytes, { flag: append ? 'a' : 'w' });
  return (await fs.stat(target)).size;
}

/** wrfile through a file opened under the policy's roots (already truncated when it replaces the file). */
async function writeOpened(file: ConfinedFile, bytes: Buffer, o: WriteOpts): Promise<number> {
  try {
    if (bytes.length > 0) await file.handle.write(bytes, 0, bytes.length, o.append ? null : (o.offset ?? 0));
    if (o.truncate) await file.handle.truncate((o.offset ?? 0) + bytes.length);
    return (await file.handle.stat()).size;
  } finally {
    await file.handle.close();
  }
}

/**
 * A FIFO or socket would block one of libuv's four file threads until someone else opens its other
 * end: four such commands would stall every file operation (and DNS, so reconnects) of the agent.
 */
function refuseBlocking(target: string, st: { isFIFO(): boolean; isSocket(): boolean }): void {
  if (st.isFIFO() || st.isSocket()) throw new CommandError('PATH', `${target}: is a ${st.isFIFO() ? 'FIFO' : 'socket'}, not a file`);
}

async function regularFile(target: string) {
  const st = await onPath(target, () => fs.stat(target));
  if (st.isDirectory()) throw new CommandError('PATH', `${target}: is a directory`);
  refuseBlocking(target, st);
  return st;
}

/** wrfile may create its file; when one exists it must not be a FIFO or a socket. */
async function writableTarget(target: string): Promise<void> {
  const st = await fs.stat(target).catch(() => undefined);
  if (st) refuseBlocking(target, st);
}

/** How much `hash` reads at a time: every read is a trip to libuv's thread pool, dear here (open-uploads.ts). */
const HASH_READ_BYTES = 1024 * 1024;

/** Size and SHA-256 of an open file, read through one buffer (a stream allocates one per 64 KiB read). */
async function digestFile(fh: fs.FileHandle, signal: AbortSignal): Promise<{ size: number; sha256: string }> {
  const h = createHash('sha256');
  const buf = Buffer.allocUnsafe(HASH_READ_BYTES);
  let size = 0;
  for (;;) {
    if (signal.aborted) throw aborted(signal, 'hashing');
    const { bytesRead } = await fh.read(buf, 0, buf.length, size);
    if (bytesRead === 0) return { size, sha256: h.digest('hex') };
    h.update(buf.subarray(0, bytesRead));
    size += bytesRead;
  }
}

/** The error a job ends with when it was aborted while streaming. */
function aborted(signal: AbortSignal, doing = 'reading'): CommandError {
  const reason = signal.reason as { kind?: string } | undefined;
  return reason?.kind === 'timeout'
    ? new CommandError('TIMEOUT', `timed out while ${doing} the file`)
    : new CommandError('CANCELLED', `cancelled (${reason?.kind ?? 'abort'}) while ${doing} the file`);
}

/** Registers wrfile, hash and rdfile; returns the files wrfile keeps open between an upload's chunks. */
export function registerFileDataCommands(registry: CommandRegistry): OpenUploads {
  const uploads = new OpenUploads();
  registry.register(
    'foreground',
    'wrfile',
    async (ctx) => {
      const target = resolvePath(ctx.cwd, ctx.args[0]);
      const o = ctx.opts;
      if (o.append && (o.offset !== undefined || o.truncate)) {
        throw new CommandError('BAD_ARGS', 'append=true cannot be combined with offset or truncate');
      }
      if (o.truncate && o.offset === undefined) throw new CommandError('BAD_ARGS', 'truncate=true needs an offset (a whole-file write already truncates)');
      const data = ctx.args[1];
      // A command frame's bytes are written as they came [cp-cmdframe-5]; an encoding there is a mistake.
      if (typeof data !== 'string' && o.encoding !== undefined) throw new CommandError('BAD_ARGS', 'encoding applies to text data; the bytes of a command frame are written as they are');
      const bytes = typeof data === 'string' ? decodeData(data, o.encoding) : Buffer.from(data.buffer, data.byteOffset, data.length);
      if (!bytes) throw new CommandError('BAD_ARGS', 'data is not valid base64');
      const file = await openUnderRoots(ctx, target, 'write', { write: true, create: true, append: o.append, truncate: !o.append && o.offset === undefined });
      if (file) return { path: file.path, bytes: bytes.length, size: await onPath(file.path, () => writeOpened(file, bytes, o)) };
      const size = await onPath(target, () =>
        o.offset === undefined ? writeWhole(target, bytes, o.append) : uploads.write(target, bytes, o.offset, o.truncate === true, refuseBlocking),
      );
      return { path: target, bytes: bytes.length, size };
    },
    {
      args: lazySchema(() => z.tuple([name('path'), strOrBytes('data')])),
      opts: lazySchema(() => z.object({ append: flag, encoding, offset: count('offset').optional(), truncate: flag }).strict()),
      usage: '<path> <data> [append=true] [encoding=base64] [offset=N] [truncate=true]',
      summary:
        'Writes data to a file (replacing it); append=true appends; offset=N writes at byte N for chunked uploads, truncate=true then ends the file there; data may be the bytes of a command frame',
    },
  );

  registry.register(
    'foreground',
    'hash',
    async (ctx) => {
      const asked = resolvePath(ctx.cwd, ctx.args[0]);
      const file = await openUnderRoots(ctx, asked, 'read');
      const target = file?.path ?? asked;
      if (!file) await regularFile(target);
      const { size, sha256 } = await onPath(target, async () => {
        const fh = file?.handle ?? (await fs.open(target, 'r'));
        try {
          return await digestFile(fh, ctx.signal);
        } finally {
          await fh.close().catch(() => undefined);
        }
      });
      return { path: target, size, sha256 };
    },
    {
      args: lazySchema(() => z.tuple([name('path')])),
      opts: lazySchema(() => z.object({}).strict()),
      usage: '<path>',
      summary: "Returns a file's size and SHA-256 (hex), read in a stream",
    },
  );

  registry.register(
    'background',
    'rdfile',
    async (ctx) => {
      const asked = resolvePath(ctx.cwd, ctx.args[0]);
      const file = await openUnderRoots(ctx, asked, 'read');
      const target = file?.path ?? asked;
      const st = file?.stat ?? (await regularFile(target));
      const start = ctx.opts.offset ?? 0;
      const length = ctx.opts.length;
      const h = createHash('sha256');
      let bytes = 0;
      if (length !== 0 && (start < st.size || !st.isFile())) {
        const end = length === undefined ? undefined : start + length - 1;
        const stream = file ? file.handle.createReadStream({ start, end, highWaterMark: MAX_CHUNK_BYTES }) : createReadStream(target, { start, end, highWaterMark: MAX_CHUNK_BYTES });
        try {
          // One chunk in flight at a time: the next read waits for the publish window (backpressure).
          for await (const chunk of stream) {
            if (ctx.signal.aborted) throw aborted(ctx.signal);
            h.update(chunk as Buffer);
            bytes += (chunk as Buffer).length;
            await ctx.write('stdout', chunk as Buffer);
          }
        } catch (err) {
          throw pathError(err, target);
        } finally {
          stream.destroy();
        }
      }
      await file?.handle.close().catch(() => undefined);
      if (ctx.signal.aborted) throw aborted(ctx.signal);
      return { path: target, size: st.size, bytes, sha256: h.digest('hex') };
    },
    {
      args: lazySchema(() => z.tuple([name('path')])),
      opts: lazySchema(() => z.object({ offset: count('offset').optional(), length: count('length').optional() }).strict()),
      usage: '<path> [offset=N] [length=N]',
      summary: "Streams a file's bytes as stdout output (binary-safe, chunked); returns {path, size, bytes, sha256} of what was sent",
    },
  );
  return uploads;
}
