// How a host's state reads for people, in a state line (`web-3: FAILED exit 7`), in the summary
// (`7 hosts: 2 ok; 1 failed exit 7 (web-3)`) and in the commands to type next. Pure functions: the
// renderer (render-job.ts), put, audit and Ctrl-C share them, and every timeout they mention names
// its limit and the flag that sets it.
import type { HostResult } from '../../controller/collect.js';
import { compressHosts } from '../../controller/host-ranges.js';

export interface Limits {
  waitMs?: number;
  killAfterMs?: number;
  /** --queue: offline hosts run the command when they return, within ttlMs. */
  queued?: boolean;
  ttlMs?: number;
}

/** Milliseconds as the seconds an operator typed (`30`, `1.5`); `?` when no limit was set. */
export const sec = (ms: number | undefined) => (ms === undefined ? '?' : `${+(ms / 1000).toFixed(3)}`);

/** The detail of a state in a few words; every timeout names its limit and the flag that sets it. */
export function outcome(r: HostResult, l: Limits = {}, stale = false): string {
  switch (r.state) {
    case 'failed':
      if (r.timedOut) return `killed after --kill-after ${sec(l.killAfterMs)} s`;
      // killed: a `kill` ended it, not the program's own doing.
      if (r.killed) return `killed (${r.signal ?? 'SIGKILL'})`;
      return r.signal ? `signal ${r.signal}` : `exit ${r.code}`;
    case 'running':
      return `after --timeout ${sec(l.waitMs)} s`;
    case 'no-answer':
      return `within --timeout ${sec(l.waitMs)} s`;
    case 'offline':
      if (stale) return 'stale: sent, it may run there unobserved';
      return l.queued ? `queued for --ttl ${sec(l.ttlMs)} s` : 'not run';
    case 'forged':
      return 'not from the host';
    default:
      // `expired`, `lost`: the state already says what the code would.
      return r.error && r.error.code.toLowerCase() !== r.state ? r.error.code : '';
  }
}

/** The per-host state line: `FAILED exit 2`, `RUNNING after --timeout 30 s`, `ERROR PATH: …`. */
export function describeResult(r: HostResult, l: Limits = {}, neverSeen = false, stale = false): string {
  // Not the host's answer at all: say whose word it is instead of repeating the code.
  if (r.state === 'forged') return `FORGED result, not from the host: ${r.error?.message ?? 'bad signature'}`;
  const parts = [r.state.toUpperCase()];
  if (r.state === 'failed' || r.state === 'running' || r.state === 'no-answer' || r.state === 'offline') parts.push(outcome(r, l, stale));
  if (r.state === 'running') parts.push('(the job goes on)');
  if (r.error && (neverSeen || !['running', 'no-answer', 'offline'].includes(r.state))) {
    const named = r.error.code === 'OFFLINE' || r.error.code.toLowerCase() === r.state;
    parts.push(named ? r.error.message : `${r.error.code}: ${r.error.message}`);
  }
  return parts.join(' ');
}

/** `7 hosts: 2 ok; 1 failed exit 7 (web-3); …`: hosts grouped by outcome, each group a compact host list. */
export function countByOutcome(entries: ReadonlyArray<{ host: string; outcome: string }>): string {
  const groups = new Map<string, string[]>();
  for (const e of entries) groups.set(e.outcome, [...(groups.get(e.outcome) ?? []), e.host]);
  const parts = [`${entries.length} host${entries.length === 1 ? '' : 's'}: ${(groups.get('ok') ?? []).length} ok`];
  for (const [key, hosts] of groups) if (key !== 'ok') parts.push(`${hosts.length} ${key} (${compressHosts(hosts)})`);
  return parts.join('; ');
}

/** A target as a shell word: quoted when it holds brackets or stars. */
export function shellWord(s: string): string {
  return /^[A-Za-z0-9_.,=-]+$/.test(s) ? s : `'${s}'`;
}

/** The commands that follow or stop job `id` on `hosts`, as typed (after a --timeout, after Ctrl-C). */
export function followOrStop(hosts: readonly string[], id: string): string[] {
  const t = shellWord(compressHosts(hosts));
  return [`  follow: conplyent attach ${t} ${id}`, `  stop:   conplyent kill ${t} ${id}`];
}
