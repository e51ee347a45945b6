// The journal's line format: every line carries its own CRC-32, and the file opens with a header, so
// a journal that was truncated (ext4 can leave a zero-length file after a power cut between a write
// and its flush), overwritten or cut mid-line reads as damaged instead of as a fresh, empty one.
//   H  conplyent-journal 1 <createdAt>   first line, always (an empty file is never a valid journal)
//   S  <id> <ts>                         job id seen [cp-dedupe-1]
//   R  <id> <record JSON>                job running
//   E  <id>                              job's terminal event acknowledged [cp-evt-8]
//   D  <since> <reason JSON>             damage found at `since` [cp-state-1]
// Fields are tab-separated; the line ends with a tab, `#`, and the CRC-32 (hex) of what precedes it.
import { crc32 } from 'node:zlib';

const MAGIC = 'conplyent-journal';
const VERSION = '1';

export type JournalLine = { kind: string; fields: string[] };

/** One line, checksummed, with its newline. */
export function encodeLine(kind: string, ...fields: (string | number)[]): string {
  const body = [kind, ...fields].join('\t');
  return `${body}\t#${crc32(body).toString(16).padStart(8, '0')}\n`;
}

export function headerLine(createdAt: number): string {
  return encodeLine('H', MAGIC, VERSION, createdAt);
}

export interface ParsedJournal {
  lines: JournalLine[];
  /** Why the text is not a whole, intact journal; undefined when it is. */
  damage?: string;
}

/** Parses a journal, keeping every line whose checksum holds and saying what did not. */
export function parseJournal(text: string): ParsedJournal {
  if (text.length === 0) return { lines: [], damage: 'journal.log is empty (0 bytes): a power cut between a write and its flush, or a truncation' };
  const raw = text.split('\n');
  const cut = raw.pop() !== '';
  const lines: JournalLine[] = [];
  let bad = 0;
  for (const l of raw) {
    const parsed = decodeLine(l);
    if (parsed) lines.push(parsed);
    else bad++;
  }
  const head = lines[0];
  if (!head || head.kind !== 'H' || head.fields[0] !== MAGIC || decodeLine(raw[0]) === undefined) {
    return { lines: lines.filter((l) => l.kind !== 'H'), damage: 'journal.log does not start with a valid header (overwritten, or written by an older agent)' };
  }
  if (head.fields[1] !== VERSION) return { lines: [], damage: `journal.log has format ${head.fields[1]}; this agent reads format ${VERSION}` };
  const problems = [bad ? `${bad} of ${raw.length} lines fail their checksum` : '', cut ? 'its last line is cut short' : ''].filter(Boolean);
  return { lines: lines.slice(1), damage: problems.length ? `journal.log is damaged: ${problems.join(', ')}` : undefined };
}

function decodeLine(line: string): JournalLine | undefined {
  const at = line.lastIndexOf('\t#');
  if (at < 0) return undefined;
  const body = line.slice(0, at);
  if (line.slice(at + 2) !== crc32(body).toString(16).padStart(8, '0')) return undefined;
  const [kind, ...fields] = body.split('\t');
  return { kind, fields };
}
