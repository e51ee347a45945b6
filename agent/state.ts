// The agent's state directory: what must survive a crash so that nothing runs twice and no job
// stays "running" forever (LESSONS: redelivery runs twice; crashes must be honest).
//   boot        last boot number (incarnation, [cp-presence-3])
//   seen.log    job ids already accepted, appended BEFORE execution [cp-dedupe-1]
//   jobs/<id>   one file per job that has not yet had its terminal event acknowledged [cp-evt-8]
import { appendFileSync, closeSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

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

export class StateDir {
  readonly spoolDir: string;
  private readonly seen = new Map<string, number>();
  private readonly seenPath: string;
  private readonly jobsDir: string;

  constructor(
    readonly dir: string,
    private readonly retentionMs: number,
  ) {
    this.seenPath = join(dir, 'seen.log');
    this.jobsDir = join(dir, 'jobs');
    this.spoolDir = join(dir, 'spool');
    mkdirSync(this.jobsDir, { recursive: true });
    rmSync(this.spoolDir, { recursive: true, force: true });
    mkdirSync(this.spoolDir, { recursive: true });
    this.loadSeen();
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

  private loadSeen(): void {
    let text = '';
    try {
      text = readFileSync(this.seenPath, 'utf8');
    } catch {
      return;
    }
    const cutoff = Date.now() - this.retentionMs;
    for (const line of text.split('\n')) {
      const [id, ts] = line.split('\t');
      if (id && Number(ts) >= cutoff) this.seen.set(id, Number(ts));
    }
    // Compact on start so the log holds only the retention window.
    const tmp = `${this.seenPath}.tmp`;
    writeFileSync(tmp, [...this.seen].map(([id, ts]) => `${id}\t${ts}\n`).join(''));
    renameSync(tmp, this.seenPath);
  }

  hasSeen(id: string): boolean {
    const ts = this.seen.get(id);
    return ts !== undefined && ts >= Date.now() - this.retentionMs;
  }

  /**
   * Records an id before its command runs. Appending survives a crash of the agent (the page cache
   * outlives the process); `durable` adds an fsync for commands that take the machine down.
   */
  markSeen(id: string, durable = false): void {
    const now = Date.now();
    this.seen.set(id, now);
    if (!durable) {
      appendFileSync(this.seenPath, `${id}\t${now}\n`);
      return;
    }
    const fd = openSync(this.seenPath, 'a');
    try {
      appendFileSync(fd, `${id}\t${now}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  /** Forgets ids older than the retention window (memory only; the file is compacted at start). */
  prune(): void {
    const cutoff = Date.now() - this.retentionMs;
    for (const [id, ts] of this.seen) if (ts < cutoff) this.seen.delete(id);
  }

  recordJob(rec: JobRecord): void {
    writeFileSync(join(this.jobsDir, `${rec.id}.json`), JSON.stringify(rec));
  }

  forgetJob(id: string): void {
    rmSync(join(this.jobsDir, `${id}.json`), { force: true });
  }

  /** Jobs a previous life of the agent started and never finished. */
  unfinishedJobs(): JobRecord[] {
    const out: JobRecord[] = [];
    for (const f of readdirSync(this.jobsDir)) {
      if (!f.endsWith('.json')) continue;
      try {
        out.push(JSON.parse(readFileSync(join(this.jobsDir, f), 'utf8')) as JobRecord);
      } catch {
        rmSync(join(this.jobsDir, f), { force: true });
      }
    }
    return out;
  }
}
