// From a verdict to a job: the seen-id record before anything runs [cp-dedupe-1], the job's log and
// its `accepted` (or its one error when refused), then the handler, in order with the other
// foreground commands or beside them. Also reports the jobs a previous life left unfinished.
import { resolve as resolvePath } from 'node:path';
import type { Logger } from 'pino';
import { ErrorCodes } from '../../protocol/index.js';
import type { RejectVerdict, RunVerdict } from '../inbound/judge.js';
import type { Outbox } from '../outbound/outbox.js';
import type { AgentServices } from '../registry.js';
import type { StateDir } from '../state/state-dir.js';
import { Job } from './job.js';
import type { JobTable } from './job-table.js';
import { endOrphanGroup } from './orphans.js';
import { processStartTime } from './pid.js';

/** Commands whose second run would hurt most: their seen-id record is fsynced. */
const DURABLE = new Set(['reboot', 'shutdown']);

/**
 * Job control answers at once instead of queueing behind foreground commands: a slow or stuck
 * foreground command must never keep an operator from seeing or killing jobs [cp-dispatch-4].
 */
const IMMEDIATE = new Set(['kill', 'is_alive', 'jobs', 'ping', 'send_input', 'replay']);

export interface LauncherDeps {
  host: string;
  state: StateDir;
  outbox: Outbox;
  jobs: JobTable;
  logger: Logger;
  services: AgentServices;
  boot(): number;
  /** The session's current directory [cp-env-11], against which a command's own `cwd` is resolved. */
  cwd(session?: string): string;
}

export class JobLauncher {
  private foreground: Promise<void> = Promise.resolve();

  constructor(private readonly d: LauncherDeps) {}

  /** A refused command: seen (a redelivery gets no second answer), and its one error event. */
  reject(v: RejectVerdict): void {
    this.d.state.markSeen(v.id);
    this.d.outbox.open(this.d.host, v.id).append({ type: 'error', code: ErrorCodes[v.error], error: v.error, message: v.message, durationMs: 0, events: 0 });
  }

  start({ id, def, args, opts, command }: RunVerdict): void {
    const { state, host } = this.d;
    const boot = this.d.boot();
    state.begin({ id, cmd: def.name, args, startedAt: Date.now(), boot }, DURABLE.has(def.name));
    const log = this.d.outbox.open(host, id);
    const job: Job = new Job(id, def, args, log, this.d.logger.child({ job: id }), {
      onProcess: (pid) => state.recordJob({ id, cmd: def.name, args, startedAt: job.startedAt, boot, pid, pidStartTime: processStartTime(pid) }),
    });
    this.d.jobs.add(job);
    log.append({ type: 'accepted', cmd: def.name, args, kind: def.kind, boot, ...(command.from ? { from: command.from } : {}) });
    // The directory is read when the job's turn comes: after the `cd` queued before it.
    const run = () => {
      const cwd = this.d.cwd(command.session);
      return job.run({ host, opts, cwd: command.cwd ? resolvePath(cwd, command.cwd) : cwd, session: command.session, timeoutMs: command.timeoutMs, agent: this.d.services });
    };
    if (def.kind === 'background' || IMMEDIATE.has(def.name)) void run();
    else {
      // Foreground commands keep their order (cd, then ls). The next one waits for this job's end,
      // not its handler: a killed handler stuck in a syscall (wrfile into a FIFO) must not wedge the queue.
      const turn = () => Promise.race([run(), job.ended]);
      this.foreground = this.foreground.then(turn, turn);
    }
  }

  /** Jobs a previous life left running: each is reported lost once, never run again [cp-evt-8]. */
  reportLost(): void {
    for (const rec of this.d.state.unfinishedJobs()) {
      this.d.outbox.open(this.d.host, rec.id, 1).append({
        type: 'lost',
        code: ErrorCodes.LOST,
        message: `the agent stopped (crash, kill or power loss) while ${rec.cmd} ran; it was not run again${endOrphanGroup(rec.pid, rec.pidStartTime)}`,
        boot: this.d.boot(),
      });
    }
  }
}
