// Rolling execution: a command goes to the selected hosts in batches, and the rollout stops starting
// new batches once more hosts failed than allowed (salt #50833: batches with no abort). Hosts it never
// reached are reported as skipped, by name, never silently left out.
import type { HostResult } from './collect.js';
import type { Fleet, RunOptions } from './fleet.js';
import type { JobHandle } from './job.js';
import type { Target } from './targets.js';

export interface RolloutOptions extends RunOptions {
  /** Hosts per batch (at least 1). */
  batchSize: number;
  /** Stop starting batches once more than this many hosts did not succeed; default: never stop. */
  maxFailures?: number;
  /** Called with each batch's job as it starts, e.g. to render its output. */
  onBatch?: (job: JobHandle, batch: number, hosts: string[]) => void | Promise<void>;
}

export interface RolloutResult {
  results: HostResult[];
  /** Hosts never sent the command because the rollout stopped. */
  skipped: string[];
  aborted: boolean;
  noMatch: boolean;
}

/**
 * Runs a command batch by batch.
 * @example
 * const r = await rollout(fleet, 'role=web', 'exec', ['systemctl', 'restart', 'nginx'], { batchSize: 5, maxFailures: 1 });
 * if (r.aborted) console.error('stopped; not touched:', r.skipped.join(', '));
 */
export async function rollout(fleet: Fleet, target: Target, command: string, args: unknown[], o: RolloutOptions): Promise<RolloutResult> {
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1) throw new TypeError(`batchSize must be a whole number ≥ 1, got ${o.batchSize}`);
  const { batchSize, maxFailures, onBatch, id: _id, ...runOptions } = o;
  const res = fleet.resolve(target);
  if (res.noMatch) return { results: [], skipped: [], aborted: false, noMatch: true };
  const results: HostResult[] = [];
  let failures = 0;
  for (let i = 0, batch = 1; i < res.expected.length; i += batchSize, batch++) {
    if (maxFailures !== undefined && failures > maxFailures) {
      return { results, skipped: res.expected.slice(i), aborted: true, noMatch: false };
    }
    const hosts = res.expected.slice(i, i + batchSize);
    const job = fleet.run(hosts, command, args, runOptions);
    const rendered = onBatch?.(job, batch, hosts);
    const done = await job.done();
    await rendered;
    results.push(...done);
    failures += done.filter((r) => r.state !== 'ok').length;
  }
  return { results, skipped: [], aborted: false, noMatch: false };
}
