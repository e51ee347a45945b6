// Renders one job as it runs: pdsh-style `host: line` output, one state line per host that did not
// succeed, a progress line on a TTY, and a summary naming every host that failed or never answered.
// With --json the same moments become NDJSON lines (docs/controller.md, "NDJSON events").
import type { JobEvent } from '../../protocol/index.js';
import type { HostResult } from '../../controller/collect.js';
import type { JobHandle } from '../../controller/job.js';
import { exitFor, type ExitStatus } from './exit-codes.js';
import { ProgressLine, type Output } from './output.js';

export interface RenderOptions {
  /** Print the result value of foreground commands (default true). */
  values?: boolean;
  /** Custom value printer (ping prints round trips, jobs a table). */
  formatValue?: (host: string, value: unknown, result: HostResult, job: string) => string | undefined;
  /** Always print the summary, even for one host that succeeded. */
  alwaysSummary?: boolean;
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

export function describeResult(r: HostResult): string {
  const parts = [r.state.toUpperCase()];
  if (r.state === 'failed') parts.push(r.timedOut ? 'timed out' : r.signal ? `signal ${r.signal}` : `exit ${r.code}`);
  if (r.error) parts.push(r.error.code === 'OFFLINE' || r.error.code === 'NO_ANSWER' ? r.error.message : `${r.error.code}: ${r.error.message}`);
  return parts.join(' ');
}

export class JobRenderer {
  private readonly progress: ProgressLine;
  private readonly lines: LineBuffer;
  private readonly finals = new Map<string, HostResult>();

  constructor(private readonly out: Output, private readonly job: JobHandle, private readonly o: RenderOptions = {}) {
    this.progress = new ProgressLine(out);
    this.lines = new LineBuffer((key, line) => {
      const [host, stream] = key.split('\0') as [string, string];
      this.write(stream === 'stderr' ? 'stderr' : 'stdout', `${this.out.style.host(host)}: ${stream === 'update' ? this.out.style.dim(line) : line}\n`);
    });
  }

  /** Wires the renderer to the job and resolves with the results and the exit status. */
  async follow(extra: Record<string, unknown> = {}): Promise<{ results: HostResult[]; exit: ExitStatus }> {
    const { out, job } = this;
    if (out.json) out.ndjson({ type: 'start', job: job.id, cmd: job.cmd, expected: job.expected, ...(job.unknown.length ? { unknown: job.unknown } : {}), ...extra, ts: Date.now() });
    job.on('event', ({ host, event }) => this.event(host, event));
    job.on('final', ({ host, result }) => this.final(host, result));
    const results = await job.done();
    const exit = exitFor(results, job.noMatch);
    this.summary(results, exit);
    return { results, exit };
  }

  private write(stream: 'stdout' | 'stderr', text: string): void {
    this.progress.clear();
    this.out[stream].write(text);
    this.drawProgress();
  }

  private event(host: string, ev: JobEvent): void {
    if (this.out.json) return this.out.ndjson(ev);
    if (ev.type === 'output') {
      const text = ev.stream === 'update' ? ev.data : Buffer.from(ev.data, ev.enc === 'base64' ? 'base64' : 'utf8').toString('utf8');
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
    if (r.state === 'ok' && r.value !== undefined && this.o.values !== false) {
      const text = this.o.formatValue ? this.o.formatValue(host, r.value, r, this.job.id) : formatValue(r.value);
      if (text !== undefined) for (const line of text.replace(/\n$/, '').split('\n')) this.write('stdout', `${s.host(host)}: ${line}\n`);
    }
    if (r.gap) this.write('stderr', `${s.host(host)}: ${s.yellow(`GAP ${r.gap.droppedEvents} events missing from the output`)}\n`);
    if (r.state !== 'ok') {
      const color = r.state === 'offline' || r.state === 'no-answer' ? s.yellow : s.red;
      this.write('stderr', `${s.host(host)}: ${color(describeResult(r))}\n`);
    }
    this.drawProgress(true);
  }

  private drawProgress(force = false): void {
    const n = Math.max(this.job.expected.length, this.finals.size);
    if (n < 2) return;
    const failed = [...this.finals.values()].filter((r) => r.state !== 'ok').length;
    this.progress.draw(`${this.finals.size}/${n} done, ${failed} failed, ${n - this.finals.size} waiting`, force);
  }

  private summary(results: HostResult[], exit: ExitStatus): void {
    this.progress.clear();
    const byState: Record<string, string[]> = {};
    for (const r of results) (byState[r.state] ??= []).push(r.host);
    if (this.out.json) {
      this.out.ndjson({ type: 'summary', job: this.job.id, exit, total: results.length, ...(this.job.noMatch ? { noMatch: true } : {}), states: byState });
      return;
    }
    const s = this.out.style;
    if (this.job.noMatch) {
      this.out.stderr.write(s.red('target matched no known host; nothing was sent (conplyent hosts lists them)') + '\n');
      return;
    }
    const bad = results.filter((r) => r.state !== 'ok');
    if (results.length < 2 && bad.length === 0 && !this.o.alwaysSummary) return;
    const parts = [`${results.length} host${results.length === 1 ? '' : 's'}: ${(byState.ok ?? []).length} ok`];
    for (const [state, hosts] of Object.entries(byState)) if (state !== 'ok') parts.push(`${hosts.length} ${state} (${hosts.join(', ')})`);
    this.out.stderr.write((bad.length ? s.red : s.green)(parts.join(', ')) + '\n');
  }
}

/** Strings print as they are; other values as compact JSON, or pretty JSON when long. */
export function formatValue(value: unknown): string {
  if (typeof value === 'string') return value;
  const compact = JSON.stringify(value);
  return compact.length <= 100 ? compact : JSON.stringify(value, null, 2);
}
