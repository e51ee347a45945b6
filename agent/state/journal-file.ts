// journal.log on disk: read it whole (saying why it is damaged, and moving a damaged one aside for
// whoever investigates), replace it durably, append to it; and journal.mark, written once, that tells
// a journal that was lost from one that was never written [cp-state-1].
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
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

/** One write(2) of whole lines; `durable` fsyncs before returning. */
export function appendTo(path: string, text: string, durable: boolean): void {
  const fd = openSync(path, 'a');
  try {
    writeSync(fd, text);
    if (durable) fsyncSync(fd);
  } finally {
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
