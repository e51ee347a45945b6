// The bytes of every job's events, shared by all jobs: unacknowledged ones in memory up to one bound,
// then on disk up to another (past both an event is dropped and its job reports a gap [cp-evt-7]);
// acknowledged ones kept for replay under bounds of their own, so one outage cannot starve the next.
import { closeSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export interface SpoolLimits {
  spoolMemoryBytes: number;
  spoolDiskBytes: number;
  replayBytes: number;
}

/** One stored event: its bytes in memory, or their offset in the job's spool file. */
export interface SpoolEntry {
  readonly seq: number;
  readonly len: number;
  readonly terminal: boolean;
  readonly buf?: Buffer;
  readonly off?: number;
}

/** A job's spool file. Open only while the job can still spill: hundreds of finished jobs kept for replay must not hold hundreds of open files. */
export class SpoolFile {
  private fd: number | undefined;
  private spilled = false;
  private size = 0;

  constructor(private readonly path: string) {}

  /** Appends and returns the offset written at. */
  append(buf: Buffer): number {
    this.fd ??= openSync(this.path, 'w+');
    this.spilled = true;
    const off = this.size;
    writeSync(this.fd, buf, 0, buf.length, off);
    this.size += buf.length;
    return off;
  }

  read(off: number, len: number): Buffer {
    const out = Buffer.allocUnsafe(len);
    if (this.fd !== undefined) {
      readSync(this.fd, out, 0, len, off);
      return out;
    }
    const fd = openSync(this.path, 'r');
    try {
      readSync(fd, out, 0, len, off);
    } finally {
      closeSync(fd);
    }
    return out;
  }

  /** The job can no longer spill; later reads open the file for themselves. */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  remove(): void {
    this.close();
    if (this.spilled) rmSync(this.path, { force: true });
  }
}

export class Spool {
  private memUnsent = 0;
  private memRetained = 0;
  /** Spooled (unacknowledged) bytes on disk: what the spool bound limits. */
  private disk = 0;
  /** Acknowledged bytes still on disk for replay. */
  private diskRetained = 0;

  constructor(
    private readonly limits: SpoolLimits,
    private readonly dir: string,
  ) {}

  file(job: string): SpoolFile {
    return new SpoolFile(join(this.dir, `${job}.spool`));
  }

  /** Whether `len` more unacknowledged bytes fit in memory or on disk. */
  fits(len: number): boolean {
    return this.memUnsent + len <= this.limits.spoolMemoryBytes || this.disk + len <= this.limits.spoolDiskBytes;
  }

  /** Stores an event; a terminal event always stays in memory (it is never dropped, and small). */
  store(file: SpoolFile, seq: number, buf: Buffer, terminal: boolean): SpoolEntry {
    if (terminal || this.memUnsent + buf.length <= this.limits.spoolMemoryBytes) {
      this.memUnsent += buf.length;
      return { seq, len: buf.length, terminal, buf };
    }
    const off = file.append(buf);
    this.disk += buf.length;
    return { seq, len: buf.length, terminal, off };
  }

  read(file: SpoolFile, e: SpoolEntry): Buffer {
    return e.buf ?? file.read(e.off!, e.len);
  }

  /** The broker acknowledged the entry: its bytes now count against the replay bounds. */
  acked(e: SpoolEntry): void {
    if (e.buf) {
      this.memUnsent -= e.len;
      this.memRetained += e.len;
    } else {
      this.disk -= e.len;
      this.diskRetained += e.len;
    }
  }

  /** An acknowledged entry was dropped from the replay store. */
  released(e: SpoolEntry): void {
    if (e.buf) this.memRetained -= e.len;
    else this.diskRetained -= e.len;
  }

  /** Whether acknowledged events take more than the replay bounds allow. */
  overRetained(): boolean {
    return this.memRetained > this.limits.replayBytes || this.diskRetained > this.limits.spoolDiskBytes;
  }
}
