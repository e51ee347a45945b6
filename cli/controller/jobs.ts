// `conplyent jobs [target]`: running and recent jobs of the selected hosts, one table with a row per job.
import type { Command } from 'commander';
import { defineVerb, targetOf, withFleet } from './common.js';
import { ago } from './output.js';
import { runAndRender } from './run.js';

interface JobRow {
  id: string;
  cmd: string;
  args?: unknown[];
  state: string;
  startedAt?: number;
  pid?: number;
  code?: number | null;
}

/** One row per job of a host; the `jobs` command itself is always running while it answers: left out. */
function jobRows(value: unknown, self: string): string[][] {
  if (!Array.isArray(value)) return [];
  const now = Date.now();
  return (value as JobRow[])
    .filter((j) => j.id !== self)
    .map((j) => [
      j.id,
      j.state,
      j.startedAt ? `${ago(now - j.startedAt)} ago` : '-',
      j.pid !== undefined ? String(j.pid) : '-',
      j.code !== undefined && j.code !== null ? `exit ${j.code}` : '-',
      [j.cmd, ...(j.args ?? []).map(String)].join(' ').slice(0, 80),
    ]);
}

export function registerJobs(program: Command): void {
  defineVerb(program, 'jobs [target]', 'list running and recent jobs on the selected hosts (default all)', [
    'conplyent jobs',
    'conplyent jobs web-1',
    'conplyent jobs role=web --json | jq \'select(.type=="final") | .value[] | select(.state=="running")\'',
  ]).action(async (target: string | undefined, _o: unknown, cmd: Command) => {
    await withFleet(cmd, target, (ctx) => runAndRender(ctx, { target: targetOf(cmd, target ?? 'all'), command: 'jobs', render: { rows: { header: ['JOB', 'STATE', 'STARTED', 'PID', 'CODE', 'COMMAND'], of: jobRows, empty: '(no jobs)' } } }));
  });
}
