// journal.log on disk: read it whole (saying why it is damaged, and moving a damaged one aside for
// whoever investigates), replace it durably, append to it through one held descriptor; and
// journal.mark, written once, that tells a journal that was lost from one never written [cp-state-1].
import { closeSync, existsSync, fstatSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseJournal, type JournalLine } from './journal-lines.js';

export const JOURNAL = 'journal.log';
const MARK = 'journal.mark';

export interface JournalRead {
  /** Every intact line, header excluded. */
  lines: JournalLine[];
  /** Why the journal is damaged, or undefined when it is whole (or the directory is new). */
  damage?: string;
}

/** Reads the journal; a damaged one is renamed `journal.log.damaged-<now>`. Throws when it cannot be moved aside. */
export function readJournal(dir: string, now: number): JournalRead {
  const path = join(dir, JOURNAL);
  let text: string | undefined;
  let damage: string | undefined;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') damage = `journal.log cannot be read (${code})`;
    else if (existsSync(join(dir, MARK))) damage = 'journal.log is missing, though journal.mark says this directory kept one';
  }
  const parsed = text === undefined ? { lines: [] } : parseJournal(text);
  damage ??= parsed.damage;
  if (damage !== undefined && existsSync(path)) renameSync(path, `${path}.damaged-${now}`);
  return { lines: parsed.lines, damage };
}

/**
 * Replaces a file with `text`: written and fsynced beside it, renamed over it, and the directory
 * fsynced, so a power cut leaves the old content or the new, never an empty file.
 */
export function replaceDurably(path: string, text: string): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  syncDir(dirname(path));
}

/** Writes journal.mark once, durably, before anything is run. */
export function markJournal(dir: string): void {
  if (existsSync(join(dir, MARK))) return;
  replaceDurably(join(dir, MARK), 'conplyent: this directory keeps journal.log; do not delete one without the other\n');
}

/**
 * Appends whole lines with one write(2) each on a descriptor held open (O_APPEND): an open and a
 * close per append were ≈ 30 µs of every command's path in the roundtrip profile (two appends per
 * command; syscalls are dear in a VM). Once write() returns the line is in the kernel and survives
 * the agent crashing, as before; `durable` fsyncs too (power loss). A file that is no longer linked
 * (compaction renamed a new journal over it, or someone deleted or replaced it) is noticed by one
 * fstat and the path opened again, so a journal taken away fails the append as an open would.
 */
export class JournalAppender {
  private fd = -1;

  constructor(private readonly path: string) {}

  append(text: string, durable: boolean): void {
    if (this.fd >= 0 && fstatSync(this.fd).nlink === 0) this.close();
    if (this.fd < 0) this.fd = openSync(this.path, 'a');
    writeSync(this.fd, text);
    if (durable) fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd < 0) return;
    const fd = this.fd;
    this.fd = -1;
    closeSync(fd);
  }
}

function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
