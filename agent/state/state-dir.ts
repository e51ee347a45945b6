// The agent's state directory: what must survive a crash so that nothing runs twice and no job
// stays "running" forever. QoS 1 is at-least-once (MQTT 3.1.1 §4.3.2): after a reconnect the broker
// may deliver a command again, so ids are recorded before execution; and a crash must be reported.
//   boot          last boot number (incarnation, [cp-presence-3])
//   journal.log   one append-only, checksummed line per fact (format in journal-lines.ts), so a
//                 command costs one small append. Compacted to the seen window and unfinished jobs at
//                 every start, and while running once 4 MiB (or its last compacted size) was appended.
//   journal.mark  written once, durably, with the first journal: a journal that is missing while the
//                 mark exists was lost, not never written [cp-state-1]
//   agent.lock    the holder (lock.ts); one left behind from another boot means the machine went down
//                 under the agent, with appended lines possibly still unflushed
//   spool/        the outbox's disk spool (only for the life of the process)
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StateHealth } from './health.js';
import { JournalAppender, JOURNAL, markJournal, readJournal, replaceDurably, type JournalRead } from './journal-file.js';
import { encodeLine, headerLine, type JournalLine } from './journal-lines.js';
import { doubtfulEnd, StateDirInUse, StateLock } from './lock.js';

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
  /** Called when the health changes while running (a write failed, the damage window ended). */
  onHealth?: (h: StateHealth) => void;
}

/** The journal could not be written: the job must not run, since its id is not recorded. */
export class StateUnavailable extends Error {}

export class StateDir {
  readonly spoolDir: string;
  private readonly seen = new Map<string, number>();
  private readonly running = new Map<string, JobRecord>();
  private readonly journal: string;
  private readonly appender: JournalAppender;
  private readonly compactBytes: number;
  /** Bytes appended since the last compaction, and that compaction's size: the journal's bound. */
  private appended = 0;
  private compactedSize = 0;
  private lock: StateLock | undefined;
  private state: StateHealth = { status: 'ok' };

  constructor(
    readonly dir: string,
    private readonly retentionMs: number,
    private readonly options: StateDirOptions = {},
  ) {
    this.compactBytes = options.compactBytes ?? COMPACT_BYTES;
    this.journal = join(dir, JOURNAL);
    this.appender = new JournalAppender(this.journal);
    this.spoolDir = join(dir, 'spool');
    try {
      mkdirSync(dir, { recursive: true });
      this.lock = new StateLock(dir, options.owner ?? 'agent');
      rmSync(this.spoolDir, { recursive: true, force: true });
      mkdirSync(this.spoolDir, { recursive: true });
    } catch (err) {
      if (err instanceof StateDirInUse) throw err;
      this.fail(`the state directory ${dir} cannot be written (${errCode(err)})`);
      return;
    }
    this.load();
  }

  /** ok, damaged (some ids may be lost: refuse what cannot be proven new) or unavailable. */
  health(): StateHealth {
    return this.state;
  }

  /** Gives the directory up (on a clean stop). */
  release(): void {
    this.appender.close();
    this.lock?.release();
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
    try {
      writeFileSync(path, String(boot));
    } catch {
      // an unwritable directory is reported by health(); the clock still orders incarnations
    }
    return boot;
  }

  private load(): void {
    const now = Date.now();
    let read: JournalRead;
    try {
      read = readJournal(this.dir, now);
    } catch (err) {
      return this.fail(`journal.log is damaged and cannot be moved aside (${errCode(err)})`);
    }
    this.apply(read.lines, now);
    const damage = read.damage ?? (this.lock ? doubtfulEnd(this.lock.previous) : undefined);
    if (damage !== undefined) this.state = { status: 'damaged', since: now, until: now + this.retentionMs, reason: damage };
    try {
      this.compact();
      markJournal(this.dir);
    } catch (err) {
      this.fail(`journal.log cannot be written (${errCode(err)})`);
    }
  }

  private apply(lines: JournalLine[], now: number): void {
    const cutoff = now - this.retentionMs;
    for (const { kind, fields } of lines) {
      const [id, data = ''] = fields;
      switch (kind) {
        case 'S':
          if (Number(data) >= cutoff) this.seen.set(id, Number(data));
          break;
        case 'R':
          try {
            this.running.set(id, JSON.parse(data) as JobRecord);
          } catch {
            // its checksum held, so the agent wrote it so: nothing to recover
          }
          break;
        case 'E':
          this.running.delete(id);
          break;
        case 'D': {
          // An earlier damage whose window is still open stays in force across restarts.
          const since = Number(id);
          if (since + this.retentionMs > now && (this.state.status !== 'damaged' || since > this.state.since)) {
            this.state = { status: 'damaged', since, until: since + this.retentionMs, reason: safeJson(data) };
          }
          break;
        }
      }
    }
  }

  /**
   * Rewrites the journal with only what still matters (the damage window, the seen window,
   * unfinished jobs), durably: it replaces lines that were fsynced for reboot/shutdown.
   */
  private compact(): void {
    const s = this.state;
    const text = [
      headerLine(Date.now()),
      ...(s.status === 'damaged' ? [encodeLine('D', s.since, JSON.stringify(s.reason))] : []),
      ...[...this.seen].map(([id, ts]) => encodeLine('S', id, ts)),
      ...[...this.running.values()].map((r) => this.rLine(r)),
    ].join('');
    replaceDurably(this.journal, text);
    this.appender.close(); // its descriptor is the file just replaced
    this.appended = 0;
    this.compactedSize = Buffer.byteLength(text);
  }

  private rLine(rec: JobRecord): string {
    // Long strings cut first: only the first ARG_CHARS characters are kept, so a 175 kB put chunk
    // need not be serialised whole on every job start.
    const args = JSON.stringify(rec.args.map((a) => (typeof a === 'string' && a.length > ARG_CHARS ? a.slice(0, ARG_CHARS + 1) : a)));
    return encodeLine('R', rec.id, JSON.stringify(args.length > ARG_CHARS ? { ...rec, args: [`${args.slice(0, ARG_CHARS)}…`] } : rec));
  }

  /** `durable` fsyncs: for commands that take the machine down, a page cache is not enough. Throws StateUnavailable. */
  private append(text: string, durable: boolean): void {
    if (this.state.status === 'unavailable') throw new StateUnavailable(this.state.reason);
    try {
      this.appender.append(text, durable);
    } catch (err) {
      this.fail(`journal.log cannot be appended to (${errCode(err)})`);
      throw new StateUnavailable((this.state as { reason: string }).reason);
    }
    this.appended += text.length;
  }

  private fail(reason: string): void {
    if (this.state.status === 'unavailable') return;
    this.state = { status: 'unavailable', since: Date.now(), reason };
    this.options.onHealth?.(this.state);
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
    try {
      this.append(encodeLine('S', id, now), durable);
    } catch {
      // refused anyway; only a redelivery's second answer is at stake, and health() says why
    }
  }

  /** Records a job as seen and running, in one append, before it runs. Throws StateUnavailable: then it must not run. */
  begin(rec: JobRecord, durable = false): void {
    const now = Date.now();
    this.append(`${encodeLine('S', rec.id, now)}${this.rLine(rec)}`, durable);
    this.seen.set(rec.id, now);
    this.running.set(rec.id, rec);
  }

  /** Updates a running job's record (its pid became known). */
  recordJob(rec: JobRecord): void {
    if (!this.running.has(rec.id)) return;
    this.running.set(rec.id, rec);
    this.tryAppend(this.rLine(rec));
  }

  /** The job's terminal event was acknowledged: it can no longer be lost. */
  forgetJob(id: string): void {
    if (!this.running.delete(id)) return;
    this.tryAppend(encodeLine('E', id));
  }

  private tryAppend(text: string): void {
    try {
      this.append(text, false);
    } catch {
      // health() reports it; this line only refines what a restart would report lost
    }
  }

  /** Forgets ids older than the retention window; compacts the journal once enough was appended since the last time. */
  prune(): void {
    const now = Date.now();
    const cutoff = now - this.retentionMs;
    for (const [id, ts] of this.seen) if (ts < cutoff) this.seen.delete(id);
    if (this.state.status === 'damaged' && now >= this.state.until) {
      this.state = { status: 'ok' };
      this.options.onHealth?.(this.state);
    }
    if (this.state.status === 'unavailable') return;
    // A long-running agent appends a few lines per command: compact before the journal grows without bound.
    if (this.appended > Math.max(this.compactBytes, this.compactedSize)) {
      try {
        this.compact();
      } catch (err) {
        this.fail(`journal.log cannot be compacted (${errCode(err)})`);
      }
    }
  }

  /** Jobs a previous life of the agent started and never finished. */
  unfinishedJobs(): JobRecord[] {
    return [...this.running.values()];
  }
}

function errCode(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? (err as Error).message;
}

function safeJson(text: string): string {
  try {
    return String(JSON.parse(text));
  } catch {
    return text;
  }
}
