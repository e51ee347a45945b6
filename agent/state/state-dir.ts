// The agent's state directory: what must survive a crash so that nothing runs twice and no job
// stays "running" forever. QoS 1 is at-least-once (MQTT 3.1.1 §4.3.2): after a reconnect the broker
// may deliver a command again, so ids are recorded before execution; and a crash must be reported.
//   boot         last boot number (incarnation, [cp-presence-3])
//   journal.log  one append-only line per fact, so a command costs one small append, not file churn:
//                  S <id> <ts>       job id seen: appended BEFORE execution [cp-dedupe-1]
//                  R <id> <record>   job running (again with its pid once known)
//                  E <id>            job's terminal event acknowledged [cp-evt-8]
//                The journal is compacted to the seen window and unfinished jobs at every start,
//                and while running once 4 MiB (or its last compacted size) was appended since.
//   spool/       the outbox's disk spool (only for the life of the process)
import { appendFileSync, closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StateLock } from './lock.js';

export interface JobRecord {
  id: string;
  cmd: string;
  args: unknown[];
  startedAt: number;
  boot: number;
  /** The job's process (exec), so a restarted agent can end a group its crash left behind. */
  pid?: number;
  pidStartTime?: string;
}

/** Arguments kept in a job record are only for the `lost` message; long ones are cut. */
const ARG_CHARS = 200;

/** Journal bytes appended since the last compaction that trigger the next one (checked by prune()). */
const COMPACT_BYTES = 4 * 1024 * 1024;

export interface StateDirOptions {
  /** Compact when this many bytes were appended since the last compaction (and at least its size). */
  compactBytes?: number;
  /** The agent that takes the directory, named in the error another agent gets. */
  owner?: string;
}

export class StateDir {
  readonly spoolDir: string;
  private readonly seen = new Map<string, number>();
  private readonly running = new Map<string, JobRecord>();
  private readonly journal: string;
  private readonly compactBytes: number;
  /** Bytes appended since the last compaction, and that compaction's size: the journal's bound. */
  private appended = 0;
  private compactedSize = 0;
  private readonly lock: StateLock;

  constructor(
    readonly dir: string,
    private readonly retentionMs: number,
    options: StateDirOptions = {},
  ) {
    this.compactBytes = options.compactBytes ?? COMPACT_BYTES;
    this.journal = join(dir, 'journal.log');
    this.spoolDir = join(dir, 'spool');
    mkdirSync(dir, { recursive: true });
    this.lock = new StateLock(dir, options.owner ?? 'agent');
    rmSync(this.spoolDir, { recursive: true, force: true });
    mkdirSync(this.spoolDir, { recursive: true });
    this.load();
  }

  /** Gives the directory up (on a clean stop). */
  release(): void {
    this.lock.release();
  }

  /**
   * Next boot number: greater than the last one and than the clock, so a lost state directory
   * (a reinstalled host) still yields an incarnation newer than any before it.
   */
  nextBoot(): number {
    const path = join(this.dir, 'boot');
    let last = 0;
    try {
      last = Number(readFileSync(path, 'utf8')) || 0;
    } catch {
      // first start
    }
    const boot = Math.max(last + 1, Date.now());
    writeFileSync(path, String(boot));
    return boot;
  }

  private load(): void {
    let text = '';
    try {
      text = readFileSync(this.journal, 'utf8');
    } catch {
      return;
    }
    const cutoff = Date.now() - this.retentionMs;
    for (const line of text.split('\n')) {
      const tab = line.indexOf('\t');
      const rest = line.slice(tab + 1);
      const tab2 = rest.indexOf('\t');
      const id = tab2 < 0 ? rest : rest.slice(0, tab2);
      const data = tab2 < 0 ? '' : rest.slice(tab2 + 1);
      switch (line.slice(0, tab)) {
        case 'S':
          if (Number(data) >= cutoff) this.seen.set(id, Number(data));
          break;
        case 'R':
          try {
            this.running.set(id, JSON.parse(data) as JobRecord);
          } catch {
            // a line cut short by a crash: the S line still guards against a second run
          }
          break;
        case 'E':
          this.running.delete(id);
          break;
      }
    }
    this.compact();
  }

  /**
   * Rewrites the journal with only what still matters (the seen window, unfinished jobs). Fsynced
   * before the rename: it replaces lines that were fsynced for reboot/shutdown.
   */
  private compact(): void {
    const text = [...[...this.seen].map(([id, ts]) => `S\t${id}\t${ts}\n`), ...[...this.running.values()].map((r) => this.rLine(r))].join('');
    const tmp = `${this.journal}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
      writeFileSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.journal);
    this.appended = 0;
    this.compactedSize = Buffer.byteLength(text);
  }

  private rLine(rec: JobRecord): string {
    // Long strings cut first: only the first ARG_CHARS characters are kept, so a 175 kB put chunk
    // need not be serialised whole on every job start.
    const args = JSON.stringify(rec.args.map((a) => (typeof a === 'string' && a.length > ARG_CHARS ? a.slice(0, ARG_CHARS + 1) : a)));
    return `R\t${rec.id}\t${JSON.stringify(args.length > ARG_CHARS ? { ...rec, args: [`${args.slice(0, ARG_CHARS)}…`] } : rec)}\n`;
  }

  /** `durable` fsyncs: for commands that take the machine down, a page cache is not enough. */
  private append(text: string, durable: boolean): void {
    this.appended += text.length;
    if (!durable) {
      appendFileSync(this.journal, text);
      return;
    }
    const fd = openSync(this.journal, 'a');
    try {
      appendFileSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  hasSeen(id: string): boolean {
    // A job still running (or unfinished from a previous life) is seen however old: the retention
    // window bounds memory for ended jobs, never lets one id run twice at once.
    if (this.running.has(id)) return true;
    const ts = this.seen.get(id);
    return ts !== undefined && ts >= Date.now() - this.retentionMs;
  }

  /** Records an id that will never run (refused): a redelivery must not get a second answer. */
  markSeen(id: string, durable = false): void {
    const now = Date.now();
    this.seen.set(id, now);
    this.append(`S\t${id}\t${now}\n`, durable);
  }

  /** Records a job as seen and running, in one append, before it runs. */
  begin(rec: JobRecord, durable = false): void {
    const now = Date.now();
    this.seen.set(rec.id, now);
    this.running.set(rec.id, rec);
    this.append(`S\t${rec.id}\t${now}\n${this.rLine(rec)}`, durable);
  }

  /** Updates a running job's record (its pid became known). */
  recordJob(rec: JobRecord): void {
    if (!this.running.has(rec.id)) return;
    this.running.set(rec.id, rec);
    this.append(this.rLine(rec), false);
  }

  /** The job's terminal event was acknowledged: it can no longer be lost. */
  forgetJob(id: string): void {
    if (!this.running.delete(id)) return;
    this.append(`E\t${id}\n`, false);
  }

  /** Forgets ids older than the retention window; compacts the journal once enough was appended since the last time. */
  prune(): void {
    const cutoff = Date.now() - this.retentionMs;
    for (const [id, ts] of this.seen) if (ts < cutoff) this.seen.delete(id);
    // A long-running agent appends a few lines per command: compact before the journal grows without bound.
    if (this.appended > Math.max(this.compactBytes, this.compactedSize)) this.compact();
  }

  /** Jobs a previous life of the agent started and never finished. */
  unfinishedJobs(): JobRecord[] {
    return [...this.running.values()];
  }
}
