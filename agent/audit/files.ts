// The audit log's files: audit.<first seq>.jsonl in the state directory, oldest first by name.
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
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
    if (raw === '') continue;
    let record: AuditRecord | undefined;
    try {
      const v = JSON.parse(raw) as AuditRecord;
      if (v && typeof v === 'object' && typeof v.seq === 'number' && typeof v.hash === 'string') record = v;
    } catch {
      record = undefined;
    }
    yield { file, line: n, record, raw };
  }
}
