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
import { IMMEDIATE } from './immediate.js';
import { Lane } from './lane.js';
import { isPositionalWrite, POSITIONAL_LANE } from './positional.js';
import { endOrphanGroup } from './orphans.js';
import { processStartTime } from './pid.js';

/** Commands whose second run would hurt most: their seen-id record is fsynced. */
const DURABLE = new Set(['reboot', 'shutdown']);

/**
 * How long a job that asked for `fold` may keep its `accepted` back, hoping to end first [cp-fold-2]:
 * long enough for a ping, a cd or a file chunk on a loaded host, short enough that nobody waiting
 * for a long job's `accepted` notices.
 */
export const FOLD_WAIT_MS = 5;


export interface LauncherDeps {
  host: string;
  state: StateDir;
  outbox: Outbox;
  jobs: JobTable;
  logger: Logger;
  services: AgentServices;
  boot(): number;
  /** The session's current directory [cp-env-12], against which a command's own `cwd` is resolved. */
  cwd(session?: string): string;
  /** A job ended (its terminal event is out): the audit log's outcome record. */
  onEnded?(job: Job, v: RunVerdict): void;
}

export class JobLauncher {
  private foreground: Promise<void> = Promise.resolve();
  /** Chunks of uploads, written beside the foreground queue [cp-dispatch-5]. */
  private readonly positional = new Lane(POSITIONAL_LANE);
  /** The policy rule each running job was admitted by, for the rules' job caps. */
  private readonly rules = new Map<string, string>();

  constructor(private readonly d: LauncherDeps) {}

  /** A refused command: seen (a redelivery gets no second answer), and its one error event. */
  reject(v: RejectVerdict): void {
    this.d.state.markSeen(v.id);
    this.d.outbox.open(this.d.host, v.id).append({ type: 'error', code: ErrorCodes[v.error], error: v.error, message: v.message, durationMs: 0, events: 0 });
  }

  /** Jobs running now, in all and per policy rule. */
  running(): { total: number; byRule: Record<string, number> } {
    const byRule: Record<string, number> = {};
    for (const rule of this.rules.values()) byRule[rule] = (byRule[rule] ?? 0) + 1;
    return { total: this.d.jobs.runningCount(), byRule };
  }

  start(v: RunVerdict): void {
    const { id, def, args, opts, command, grant } = v;
    const { state, host } = this.d;
    const boot = this.d.boot();
    try {
      state.begin({ id, cmd: def.name, args, startedAt: Date.now(), boot }, DURABLE.has(def.name));
    } catch (err) {
      // [cp-state-2] an id that cannot be recorded could run twice: refuse instead.
      return this.reject({ kind: 'reject', id, cmd: def.name, args, error: 'STATE_UNAVAILABLE', message: `the agent cannot record job ids (${(err as Error).message}); not run` });
    }
    const log = this.d.outbox.open(host, id, 0, command.out);
    const job: Job = new Job(id, def, args, log, this.d.logger.child({ job: id }), {
      onProcess: (pid) => state.recordJob({ id, cmd: def.name, args, startedAt: job.startedAt, boot, pid, pidStartTime: processStartTime(pid) }),
    });
    this.d.jobs.add(job);
    if (grant) this.rules.set(id, grant.rule);
    void job.ended.then(() => {
      this.rules.delete(id);
      this.d.onEnded?.(job, v);
    });
    const accepted = { type: 'accepted' as const, cmd: def.name, args, kind: def.kind, boot, ...(command.from ? { from: command.from } : {}) };
    if (command.fold) log.hold(accepted, FOLD_WAIT_MS);
    else log.append(accepted);
    // The directory is read when the job's turn comes: after the `cd` queued before it.
    const run = () => {
      const cwd = this.d.cwd(command.session);
      return job.run({ host, opts, cwd: command.cwd ? resolvePath(cwd, command.cwd) : cwd, session: command.session, timeoutMs: command.timeoutMs, agent: this.d.services, grant });
    };
    // The next one waits for this job's end, not its handler: a killed handler stuck in a syscall
    // (wrfile into a FIFO) must not wedge the queue.
    const turn = () => Promise.race([run(), job.ended]);
    if (def.kind === 'background' || IMMEDIATE.has(def.name)) void run();
    else if (isPositionalWrite(def.name, args, opts, command.cwd)) void this.positional.run(turn);
    // Foreground commands keep their order (cd, then ls).
    else this.foreground = this.foreground.then(turn, turn);
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
