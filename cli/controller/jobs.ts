// `conplyent jobs [target]`: running and recent jobs of each selected host, one table row per job.
import type { Command } from 'commander';
import { defineVerb, targetOf, withFleet } from './common.js';
import { ago, table } from './output.js';
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

function formatJobs(value: unknown, self: string): string | undefined {
  if (!Array.isArray(value)) return undefined;
  // The `jobs` command itself is always running while it answers: leave it out.
  const jobs = (value as JobRow[]).filter((j) => j.id !== self);
  if (jobs.length === 0) return '(no jobs)';
  const now = Date.now();
  const rows = jobs.map((j) => [
    j.id,
    j.state,
    j.startedAt ? `${ago(now - j.startedAt)} ago` : '-',
    j.pid !== undefined ? String(j.pid) : '-',
    j.code !== undefined && j.code !== null ? `exit ${j.code}` : '',
    [j.cmd, ...(j.args ?? []).map(String)].join(' ').slice(0, 80),
  ]);
  return table([['JOB', 'STATE', 'STARTED', 'PID', 'CODE', 'COMMAND'], ...rows]);
}

export function registerJobs(program: Command): void {
  defineVerb(program, 'jobs [target]', 'list running and recent jobs on the selected hosts (default all)', [
    'conplyent jobs',
    'conplyent jobs web-1',
    'conplyent jobs role=web --json | jq \'select(.type=="final") | .value[] | select(.state=="running")\'',
  ]).action(async (target: string | undefined, _o: unknown, cmd: Command) => {
    await withFleet(cmd, (ctx) => runAndRender(ctx, { target: targetOf(cmd, target ?? 'all'), command: 'jobs', render: { formatValue: (_h, v, _r, self) => formatJobs(v, self) } }));
  });
}
