// The agent's jobs, running and recently ended, and the job-control operations on them: what `jobs`,
// `kill`, `send_input` and `is_alive` reach through AgentServices.
import type { AbortReason } from './abort.js';
import type { Job } from './job.js';
import { CommandError, type JobInfo } from '../registry.js';

export class JobTable {
  private readonly byId = new Map<string, Job>();
  /**
   * The jobs that may still run; ended ones are dropped when counted. byId also keeps up to
   * `replayJobs` ended jobs, and every command asks how many run (the job cap): a scan of those per
   * command grew with the retention.
   */
  private readonly mayRun = new Set<Job>();

  constructor(private readonly host: string) {}

  add(job: Job): void {
    this.byId.set(job.id, job);
    this.mayRun.add(job);
  }

  get(id: string): Job | undefined {
    return this.byId.get(id);
  }

  /** Forgets an ended job (a running one stays). */
  forget(id: string): void {
    if (!this.byId.get(id)?.running) this.byId.delete(id);
  }

  /** Forgets ended jobs whose events are no longer kept. */
  prune(kept: (id: string) => boolean): void {
    for (const [id, job] of this.byId) if (!job.running && !kept(id)) this.byId.delete(id);
  }

  infos(): JobInfo[] {
    return [...this.byId.values()].map((j) => j.info());
  }

  running(): Job[] {
    return [...this.byId.values()].filter((j) => j.running);
  }

  /** How many jobs run now: running().length without the scan of ended jobs. */
  runningCount(): number {
    for (const j of this.mayRun) if (!j.running) this.mayRun.delete(j);
    return this.mayRun.size;
  }

  /** The job, which must exist and still run; otherwise the CommandError the caller answers with. */
  live(id: string): Job {
    const job = this.byId.get(id);
    if (!job) throw new CommandError('UNKNOWN_JOB', `no job ${id} on ${this.host}`);
    if (!job.running) throw new CommandError('NOT_RUNNING', `job ${id} has already ended (${typeof job.exitCode === 'number' ? `exit code ${job.exitCode}` : 'by a signal or an error'})`);
    return job;
  }

  kill(id: string, signal: NodeJS.Signals): void {
    const reason: AbortReason = { kind: 'kill', signal };
    this.live(id).abort(reason);
  }

  /** Writes to a running job's stdin; resolves when the program took it (see JobInput). */
  sendInput(id: string, data: Buffer, end: boolean): Promise<void> {
    return this.live(id).sendInput(data, end);
  }
}
