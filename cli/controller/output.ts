// Where the verbs write: stdout for results, stderr for states, progress and the summary.
// Everything that decides about TTY, color and --json is settled here once.
import type { Writable } from 'node:stream';
import { colorsFor, styler, type Styler } from './style.js';

export interface Output {
  stdout: Writable;
  stderr: Writable;
  json: boolean;
  /** stderr is a terminal: progress lines may be drawn and erased. */
  tty: boolean;
  style: Styler;
  /** Writes one NDJSON line to stdout. */
  ndjson(obj: unknown): void;
}

let pipeGuard = false;

export function makeOutput(json: boolean, stdout: Writable = process.stdout, stderr: Writable = process.stderr): Output {
  if (!pipeGuard && stdout === process.stdout) {
    pipeGuard = true;
    // `conplyent … | head` closes the pipe early. Exiting then would report a status before the
    // hosts have answered (0 for a job that fails): stop writing to stdout, keep following the job
    // (bounded by --timeout), and exit with its real status. stderr still gets states and summary.
    stdout.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') throw e;
      stdout.write = (() => true) as typeof stdout.write;
    });
  }
  return {
    stdout,
    stderr,
    json,
    tty: (stderr as { isTTY?: boolean }).isTTY === true && !json,
    style: styler(!json && colorsFor(stdout)),
    ndjson: (obj) => stdout.write(JSON.stringify(obj) + '\n'),
  };
}

/** A one-line status on a TTY ("37/50 done, 2 failed, 11 waiting"), erased before any other write. */
export class ProgressLine {
  private shown = false;
  private last = 0;
  constructor(private readonly out: Output) {}

  draw(text: string, force = false): void {
    if (!this.out.tty) return;
    const now = Date.now();
    if (!force && now - this.last < 100) return;
    this.last = now;
    this.out.stderr.write(`\r\x1b[K${this.out.style.dim(text)}`);
    this.shown = true;
  }

  clear(): void {
    if (!this.shown) return;
    this.out.stderr.write('\r\x1b[K');
    this.shown = false;
  }
}

/** Relative time for tables: "12s", "5m", "3h", "2d". */
export function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

/** Left-aligned columns; ANSI codes do not count towards the width. */
export function table(rows: string[][]): string {
  const visible = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '').length;
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, visible(c))));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c + ' '.repeat(widths[i]! - visible(c)))).join('  ').trimEnd()).join('\n') + '\n';
}
