// The audit log's files: audit.<first seq>.jsonl in the state directory, oldest first by name.
import { createReadStream, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import type { AuditRecord } from '../../protocol/audit.js';

const FILE_RE = /^audit\.(\d{16})\.jsonl$/;

export function fileFor(dir: string, firstSeq: number): string {
  return path.join(dir, `audit.${String(firstSeq).padStart(16, '0')}.jsonl`);
}

/** The log's files, oldest first. */
export function auditFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return names.filter((n) => FILE_RE.test(n)).sort().map((n) => path.join(dir, n));
}

/** One stored line: the record, or why it is unreadable. */
export type Line = { file: string; line: number; record?: AuditRecord; raw: string };

/** Every line of every file, oldest first. Files are bounded by the log's maxBytes. */
export function* lines(dir: string): Generator<Line> {
  for (const file of auditFiles(dir)) yield* linesOf(file);
}

/** The first seq a file holds, from its name. */
function firstSeqOf(file: string): number {
  return Number(FILE_RE.exec(path.basename(file))?.[1] ?? 0);
}

function parse(file: string, line: number, raw: string): Line {
  let record: AuditRecord | undefined;
  try {
    const v = JSON.parse(raw) as AuditRecord;
    if (v && typeof v === 'object' && typeof v.seq === 'number' && typeof v.hash === 'string') record = v;
  } catch {
    record = undefined;
  }
  return { file, line, record, raw };
}

/** The lines of one file; a file vanishing under us (rotated away) reads as empty. */
export function* linesOf(file: string): Generator<Line> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  let n = 0;
  for (const raw of text.split('\n')) {
    n++;
    if (raw !== '') yield parse(file, n, raw);
  }
}

/**
 * The lines from `fromSeq` on, read as streams: an agent answering `audit` keeps serving while it
 * reads up to maxFiles × maxBytes (64 MiB by default) of log. Files that end before `fromSeq` (the
 * next file's name says where it starts) are not opened at all, so paging costs one file, not all.
 */
export async function* streamLines(dir: string, fromSeq = 0): AsyncGenerator<Line> {
  const files = auditFiles(dir);
  for (const [i, file] of files.entries()) {
    const next = files[i + 1];
    if (next !== undefined && firstSeqOf(next) <= fromSeq) continue;
    const input = createReadStream(file, { encoding: 'utf8' });
    const opened = await new Promise<boolean>((resolve, reject) => {
      input.once('ready', () => resolve(true));
      input.once('error', (err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? resolve(false) : reject(err)));
    });
    if (!opened) continue; // rotated away between the listing and the open
    let n = 0;
    try {
      for await (const raw of createInterface({ input, crlfDelay: Infinity })) {
        n++;
        if (raw !== '') yield parse(file, n, raw);
      }
    } finally {
      input.destroy();
    }
  }
}
