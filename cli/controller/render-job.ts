// Renders one job as it runs: pdsh-style `host: line` output, one state line per host that did not
// succeed, a progress line on a TTY, and a summary naming every host that failed or never answered.
// With --json the same moments become NDJSON lines (docs/controller.md, "NDJSON events").
import { outputBytes, STALE_AFTER_MISSED, type JobEvent } from '../../protocol/index.js';
import type { HostResult } from '../../controller/collect.js';
import type { JobHandle } from '../../controller/job.js';
import { compressHosts } from '../../controller/host-ranges.js';
import { exitFor, type ExitStatus } from './exit-codes.js';
import { HostBuffers } from './fold.js';
import { alreadyEnded, exitForJob, withoutJob, type JobVerb } from './job-control.js';
import { countByOutcome, describeResult, followOrStop, outcome, sec, shellWord, type Limits } from './outcome.js';
import { ProgressLine, table, type Output } from './output.js';
import { renderValue } from './render-value.js';
import { compareHosts } from '../../controller/host-order.js';

export interface RenderOptions {
  /** Print the result value of foreground commands (default true). */
  values?: boolean;
  /** Custom value printer (ping prints round trips, jobs a table). */
  formatValue?: (host: string, value: unknown, result: HostResult, job: string) => string | undefined;
  /**
   * Values that are rows of a table (jobs): one table for every host, HOST first, printed once all
   * hosts ended, instead of a table per host with its own header and widths.
   */
  rows?: { header: string[]; of: (value: unknown, job: string) => string[][]; empty: string };
  /** Always print the summary, even for one host that succeeded. */
  alwaysSummary?: boolean;
  /** Say the job id on stderr when it starts (exec, run): it is what attach and kill need. */
  announce?: boolean;
  /** --fold / --sort (fold.ts). */
  fold?: boolean;
  sort?: boolean;
  /** Output bytes go to stdout as they are, without host prefixes (rdfile to one host). */
  raw?: boolean;
  /** The limits in force, named in every timeout message with their flag. */
  limits?: Limits;
  /**
   * Hosts online by presence whose heartbeats stopped [cp-presence-8]: settled offline at once, yet
   * the command was sent and may run there, unobserved. Said so instead of "not run".
   */
  stale?: readonly string[];
  /** attach, kill, input of job `job`: hosts without it are reported once and not counted (job-control.ts). */
  control?: { verb: JobVerb; job: string };
}


const MAX_PARTIAL_CHARS = 64 * 1024;

/** Splits chunks into lines per host and stream; a partial line waits for its newline or the end. */
class LineBuffer {
  private readonly partial = new Map<string, string>();
  constructor(private readonly emit: (key: string, line: string) => void) {}
  push(key: string, text: string): void {
    const lines = ((this.partial.get(key) ?? '') + text).split('\n');
    let rest = lines.pop()!;
    // Output without newlines must not pile up: past the bound it is printed as a line of its own.
    if (rest.length > MAX_PARTIAL_CHARS) {
      lines.push(rest);
      rest = '';
    }
    this.partial.set(key, rest);
    for (const l of lines) this.emit(key, l);
  }
  flush(prefix: string): void {
    for (const [k, rest] of this.partial) if (k.startsWith(prefix) && rest !== '') this.emit(k, rest);
    for (const k of [...this.partial.keys()]) if (k.startsWith(prefix)) this.partial.delete(k);
  }
}

export class JobRenderer {
  private readonly progress: ProgressLine;
  private readonly lines: LineBuffer;
  private readonly finals = new Map<string, HostResult>();
  /** --fold / --sort: lines kept until the end. */
  private readonly kept?: HostBuffers;
  private readonly limits: Limits;
  private readonly tableRows: string[][] = [];

  constructor(private readonly out: Output, private readonly job: JobHandle, private readonly o: RenderOptions = {}) {
    this.progress = new ProgressLine(out);
    this.limits = o.limits ?? {};
    if (o.fold || o.sort) this.kept = new HostBuffers();
    this.lines = new LineBuffer((key, line) => {
      const [host, stream] = key.split('\0') as [string, string];
      if (this.kept) return this.kept.add(host, line);
      this.write(stream === 'stderr' ? 'stderr' : 'stdout', `${this.out.style.host(host)}: ${stream === 'update' ? this.out.style.dim(line) : line}\n`);
    });
  }

  /** Hosts that have not settled yet (for the Ctrl-C hint). */
  pending(): string[] {
    return this.job.expected.filter((h) => !this.finals.has(h));
  }

  /** Wires the renderer to the job and resolves with the results and the exit status. */
  async follow(extra: Record<string, unknown> = {}): Promise<{ results: HostResult[]; exit: ExitStatus }> {
    const { out, job } = this;
    if (out.json) out.ndjson({ type: 'start', job: job.id, cmd: job.cmd, expected: job.expected, ...(job.unknown.length ? { unknown: job.unknown } : {}), ...extra, ts: Date.now() });
    else if (this.o.announce && !job.noMatch) out.stderr.write(out.style.dim(`job ${job.id} on ${compressHosts(job.expected)}`) + '\n');
    job.on('event', ({ host, event }) => this.event(host, event));
    job.on('final', ({ host, result }) => this.final(host, result));
    const results = await job.done();
    const exit = this.o.control ? exitForJob(results, this.o.control.verb, job.noMatch) : exitFor(results, job.noMatch);
    this.progress.clear();
    if (this.o.fold) this.kept!.printFolded(out);
    else if (this.o.sort) this.kept!.printSorted(out);
    if (this.o.rows && !job.noMatch) this.printTable(this.o.rows);
    this.summary(results, exit);
    return { results, exit };
  }

  private write(stream: 'stdout' | 'stderr', text: string | Buffer): void {
    this.progress.clear();
    this.out[stream].write(text);
    this.drawProgress();
  }

  private event(host: string, ev: JobEvent): void {
    if (this.out.json) return this.out.ndjson(ev);
    if (ev.type === 'output') {
      if (this.o.raw && ev.stream === 'stdout') return this.write('stdout', outputBytes(ev));
      const text = ev.stream === 'update' ? ev.data : outputBytes(ev).toString('utf8');
      this.lines.push(`${host}\0${ev.stream}`, ev.stream === 'update' && !text.endsWith('\n') ? text + '\n' : text);
    } else if (ev.type === 'gap') {
      this.write('stderr', `${this.out.style.host(host)}: ${this.out.style.yellow(`GAP ${ev.droppedEvents} events (${ev.droppedBytes} bytes) dropped by the agent: ${ev.reason}`)}\n`);
    }
    this.drawProgress();
  }

  private final(host: string, r: HostResult): void {
    this.finals.set(host, r);
    if (this.out.json) {
      const { stdout: _o, stderr: _e, ...rest } = r;
      return this.out.ndjson({ type: 'final', job: this.job.id, ...rest });
    }
    this.lines.flush(`${host}\0`);
    const s = this.out.style;
    if (r.state === 'ok' && this.o.rows) {
      for (const row of this.o.rows.of(r.value, this.job.id)) this.tableRows.push([host, ...row]);
    } else if (r.state === 'ok' && r.value !== undefined && this.o.values !== false) {
      const text = this.o.formatValue ? this.o.formatValue(host, r.value, r, this.job.id) : renderValue(this.job.cmd, r.value);
      // Raw output (rdfile) keeps stdout for the bytes alone: what it returns goes to stderr.
      if (text !== undefined) for (const line of text.replace(/\n$/, '').split('\n')) this.kept ? this.kept.add(host, line) : this.write(this.o.raw ? 'stderr' : 'stdout', `${s.host(host)}: ${line}\n`);
    }
    if (r.gap) this.write('stderr', `${s.host(host)}: ${s.yellow(`GAP ${r.gap.droppedEvents} events missing from the output`)}\n`);
    if (this.uncounted(r)) {
      // A kill of a job that had ended says so where the others say `sent SIGTERM`; hosts that never
      // had the job are named once, in the summary, not one line each across a fleet.
      if (alreadyEnded(r, this.o.control!.verb)) this.write('stdout', `${s.host(host)}: ${r.error!.message}\n`);
    } else if (r.state !== 'ok' && !this.kept) {
      const color = r.state === 'offline' || r.state === 'no-answer' || r.state === 'running' ? s.yellow : s.red;
      this.write('stderr', `${s.host(host)}: ${color(describeResult(r, this.limits, this.job.unknown.includes(host), this.isStale(host)))}\n`);
    }
    this.drawProgress(true);
  }

  private printTable(rows: NonNullable<RenderOptions['rows']>): void {
    if (this.out.json) return;
    if (this.tableRows.length === 0) return void this.out.stderr.write(`${rows.empty}\n`);
    const byName = (a: string[], b: string[]) => compareHosts(a[0]!, b[0]!);
    const s = this.out.style;
    const body = [...this.tableRows].sort(byName).map(([h, ...rest]) => [s.host(h!), ...rest]);
    this.out.stdout.write(table([['HOST', ...rows.header].map((c) => s.bold(c)), ...body]));
  }

  private drawProgress(force = false): void {
    const n = Math.max(this.job.expected.length, this.finals.size);
    if (n < 2) return;
    const failed = [...this.finals.values()].filter((r) => r.state !== 'ok' && !this.uncounted(r)).length;
    this.progress.draw(`${this.finals.size}/${n} done, ${failed} failed, ${n - this.finals.size} waiting`, force);
  }

  private isStale(host: string): boolean {
    return this.o.stale?.includes(host) ?? false;
  }

  /** attach, kill, input: a host without the job, or a kill of a job that had ended (job-control.ts). */
  private uncounted(r: HostResult): boolean {
    const c = this.o.control;
    return c !== undefined && (withoutJob(r) || alreadyEnded(r, c.verb));
  }

  private summary(results: HostResult[], exit: ExitStatus): void {
    const byState: Record<string, string[]> = {};
    for (const r of results) (byState[r.state] ??= []).push(r.host);
    const noJob = this.o.control ? results.filter(withoutJob).map((r) => r.host) : [];
    if (this.out.json) {
      this.out.ndjson({ type: 'summary', job: this.job.id, exit, total: results.length, ...(this.job.noMatch ? { noMatch: true } : {}), states: byState, ...(noJob.length ? { noJob } : {}) });
      return;
    }
    const s = this.out.style;
    if (this.job.noMatch) {
      this.out.stderr.write(s.red('target matched no known host; nothing was sent (conplyent hosts lists them)') + '\n');
      return;
    }
    const counted = results.filter((r) => !noJob.includes(r.host));
    if (noJob.length && counted.length === 0) {
      const where = compressHosts(noJob);
      this.out.stderr.write(s.red(`no job ${this.o.control!.job} on ${where}: never started there, or ended longer ago than agents keep a job (10 min by default); conplyent jobs ${shellWord(where)} lists theirs`) + '\n');
      return;
    }
    // One host's own state line already says it all; the count by outcome is for several hosts, or
    // when --fold/--sort held the state lines back.
    if (counted.length > 1 || this.o.alwaysSummary || this.kept || noJob.length) {
      const bad = counted.some((r) => r.state !== 'ok' && !this.uncounted(r));
      // The outcome is the state and its detail: "failed exit 1", "running after --timeout 30 s".
      const line = countByOutcome(
        counted.map((r) => ({
          host: r.host,
          outcome: r.state === 'ok' ? 'ok' : alreadyEnded(r, this.o.control?.verb ?? 'attach') ? 'had already ended' : `${r.state} ${outcome(r, this.limits, this.isStale(r.host))}`.trim(),
        })),
      );
      this.out.stderr.write((bad ? s.red : s.green)(line) + '\n');
    }
    if (noJob.length) this.out.stderr.write(s.dim(`no job ${this.o.control!.job} on ${compressHosts(noJob)}`) + '\n');
    if (byState.forged) {
      this.out.stderr.write(s.red('someone who can publish on the broker answered in those hosts\' names; their real outcome is unknown (docs/controller.md, "Signed commands")') + '\n');
    }
    for (const line of this.hints(results)) this.out.stderr.write(s.yellow(line) + '\n');
  }

  /** What the operator can do next about hosts still running or offline. */
  private hints(results: HostResult[]): string[] {
    const hints: string[] = [];
    const id = this.job.id;
    const running = results.filter((r) => r.state === 'running').map((r) => r.host);
    if (running.length) {
      hints.push(
        `still running on ${compressHosts(running)} after --timeout ${sec(this.limits.waitMs)} s; the job goes on there.`,
        ...followOrStop(running, id),
        `  (--timeout N waits longer; --kill-after N has the agent end the job after N s)`,
      );
    }
    const offline = results.filter((r) => r.state === 'offline' && !this.job.unknown.includes(r.host) && !this.isStale(r.host)).map((r) => r.host);
    const stale = results.filter((r) => r.state === 'offline' && this.isStale(r.host)).map((r) => r.host);
    if (stale.length) hints.push(`stale: no heartbeat from ${compressHosts(stale)} for ${STALE_AFTER_MISSED} intervals (a broker node down?); conplyent hosts shows when each was last heard`);
    if (offline.length) {
      const names = compressHosts(offline);
      hints.push(
        this.limits.queued
          ? `offline: ${names} will run it when they return within --ttl ${sec(this.limits.ttlMs)} s; results then: conplyent attach ${shellWord(names)} ${id}`
          : `offline: ${names}; not run (a copy delivered later answers EXPIRED). --queue runs it when they return`,
      );
    }
    return hints;
  }
}
