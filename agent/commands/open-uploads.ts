// The files of chunked uploads (`wrfile … offset=N`, what `put` sends), kept open between chunks.
// Each promise-based fs call is a hop to libuv's thread pool that cost ≈ 90 µs of CPU here (a
// synchronous stat ≈ 5 µs); opening, checking and closing the file for every 448 KiB chunk was
// ≈ 13 % of the agent's CPU during a put (BENCHMARKS.md, run 16). A chunk now costs a stat of the
// path and the write. The stat keeps the per-chunk meaning of the path: a file removed or replaced
// between chunks (another dev/ino) is opened afresh, exactly as when every chunk opened it.
import { constants, promises as fs, type Stats } from 'node:fs';

/** How long a file stays open after its last chunk. */
export const UPLOAD_IDLE_MS = 2_000;
/** Files held open at most; the least recently used idle one is closed for a new one. */
export const UPLOAD_MAX_OPEN = 8;

// O_NONBLOCK: opening a FIFO swapped in after the stat must not wait for a reader (refused below).
const FLAGS = constants.O_RDWR | constants.O_CREAT | (constants.O_NONBLOCK ?? 0);

interface Open {
  handle: fs.FileHandle;
  dev: number;
  ino: number;
  busy: number;
  timer?: NodeJS.Timeout;
  closing?: boolean;
  closed?: boolean;
}

export type Refuse = (target: string, st: Stats) => void;

export interface OpenUploadsOptions {
  /** Keep files open between chunks; Windows refuses to remove or rename an open file, so not there. */
  keep?: boolean;
  idleMs?: number;
  maxOpen?: number;
}

export class OpenUploads {
  private readonly files = new Map<string, Open>();
  private readonly keep: boolean;
  private readonly idleMs: number;
  private readonly maxOpen: number;

  constructor(o: OpenUploadsOptions = {}) {
    this.keep = o.keep ?? process.platform !== 'win32';
    this.idleMs = o.idleMs ?? UPLOAD_IDLE_MS;
    this.maxOpen = o.maxOpen ?? UPLOAD_MAX_OPEN;
  }

  /** How many files are held open now. */
  get size(): number {
    return this.files.size;
  }

  /** Writes `bytes` at `offset` of `target` (created when missing); the file's size after the write. */
  async write(target: string, bytes: Buffer, offset: number, truncate: boolean, refuse: Refuse): Promise<number> {
    const st = await fs.stat(target).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    if (st) refuse(target, st);
    let f = this.files.get(target);
    if (f && (!st || f.dev !== st.dev || f.ino !== st.ino)) {
      this.forget(target, f);
      f = undefined;
    } else if (f) {
      this.files.delete(target); // most recently used last
      this.files.set(target, f);
    }
    let before = st?.size ?? 0;
    if (!f) {
      const handle = await fs.open(target, FLAGS, 0o666);
      const now = await handle.stat().catch(async (err) => {
        await handle.close().catch(() => undefined);
        throw err;
      });
      try {
        refuse(target, now);
      } catch (err) {
        await handle.close().catch(() => undefined);
        throw err;
      }
      before = now.size;
      f = { handle, dev: now.dev, ino: now.ino, busy: 0 };
      if (this.keep) this.remember(target, f);
    }
    f.busy++;
    clearTimeout(f.timer);
    try {
      if (bytes.length > 0) await f.handle.write(bytes, 0, bytes.length, offset);
      if (truncate) await f.handle.truncate(offset + bytes.length);
    } finally {
      f.busy--;
      this.idle(target, f);
    }
    if (truncate) return offset + bytes.length;
    return bytes.length > 0 ? Math.max(before, offset + bytes.length) : before;
  }

  /** Closes every file now (an agent stopping). */
  async closeAll(): Promise<void> {
    const all = [...this.files.entries()];
    this.files.clear();
    await Promise.all(all.map(([, f]) => this.close(f)));
  }

  private remember(target: string, f: Open): void {
    if (this.files.size >= this.maxOpen) {
      const [oldest] = [...this.files.entries()].filter(([, o]) => o.busy === 0);
      if (!oldest) {
        f.closing = true; // all busy: this one is closed after its write
        return;
      }
      this.forget(oldest[0], oldest[1]);
    }
    this.files.set(target, f);
  }

  private idle(target: string, f: Open): void {
    if (f.busy > 0) return;
    // Chunks that raced to open the same new file: only the one remembered stays open.
    if (f.closing || !this.keep || this.files.get(target) !== f) {
      void this.close(f);
      return;
    }
    f.timer = setTimeout(() => this.forget(target, f), this.idleMs);
    f.timer.unref();
  }

  private forget(target: string, f: Open): void {
    if (this.files.get(target) === f) this.files.delete(target);
    clearTimeout(f.timer);
    f.closing = true;
    if (f.busy === 0) void this.close(f);
  }

  private async close(f: Open): Promise<void> {
    clearTimeout(f.timer);
    f.closing = true;
    if (f.closed) return;
    f.closed = true;
    await f.handle.close().catch(() => undefined);
  }
}
