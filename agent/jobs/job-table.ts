// The agent's jobs, running and recently ended, and the job-control operations on them: what `jobs`,
// `kill`, `send_input` and `is_alive` reach through AgentServices.
import type { AbortReason, Job } from './job.js';
import { CommandError, type JobInfo } from '../registry.js';

/** Input a job has not read yet, per job, before send_input is refused. */
export const STDIN_BUFFER_LIMIT = 4 * 1024 * 1024;

export class JobTable {
  private readonly byId = new Map<string, Job>();

  constructor(private readonly host: string) {}

  add(job: Job): void {
    this.byId.set(job.id, job);
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

  /** The job, which must exist and still run; otherwise the CommandError the caller answers with. */
  live(id: string): Job {
    const job = this.byId.get(id);
    if (!job) throw new CommandError('UNKNOWN_JOB', `no job ${id} on ${this.host}`);
    if (!job.running) throw new CommandError('NOT_RUNNING', `job ${id} has already ended (exit code ${job.code})`);
    return job;
  }

  kill(id: string, signal: NodeJS.Signals): void {
    const reason: AbortReason = { kind: 'kill', signal };
    this.live(id).abort(reason);
  }

  /**
   * Writes to a job's stdin and resolves when the program took it. What it has not read yet stays
   * buffered, within a bound; send_input waits only a bounded time for the flush
   * (agent/commands/jobs.ts), so a deaf program holds nothing up.
   */
  async sendInput(id: string, data: Buffer, end: boolean): Promise<void> {
    const job = this.live(id);
    if (!job.stdin) throw new CommandError('NOT_RUNNING', `job ${id} takes no input`);
    const stdin = job.stdin as NodeJS.WritableStream & { writableLength?: number };
    if ((stdin.writableLength ?? 0) + data.length > STDIN_BUFFER_LIMIT) {
      throw new CommandError('FAILED', `job ${id} is not reading its input: ${stdin.writableLength} bytes already wait in its stdin buffer (limit ${STDIN_BUFFER_LIMIT})`);
    }
    const flushed = new Promise<void>((resolve, reject) => stdin.write(data, (err) => (err ? reject(new CommandError('FAILED', err.message)) : resolve())));
    if (end) stdin.end();
    await flushed;
  }
}
