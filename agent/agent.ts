// The agent: one connection, one state directory, one command registry, one outbox. It turns
// commands into jobs and jobs into events, and keeps its presence honest.
import { EventEmitter } from 'node:events';
import { resolve as resolvePath } from 'node:path';
import type { Logger } from 'pino';
import { ErrorCodes, MAX_TTL_MS, PROTOCOL_VERSION, decodePresence, isNewerOrSame, topics, type AgentNotice, type ErrorCode } from '../protocol/index.js';
import { AgentConnection } from './connection.js';
import { judge } from './dispatch.js';
import { Job, type AbortReason } from './job.js';
import { Outbox } from './outbox.js';
import { resolveAgentOptions, type AgentOptions, type ResolvedAgentOptions } from './options.js';
import { offlinePresence, onlinePresence, type PresenceState } from './presence.js';
import { CommandError, CommandRegistry, type AgentServices, type CommandOptions, type Handler } from './registry.js';
import { StateDir } from './state.js';
import { JobTable } from './job-table.js';
import { endOrphanGroup, processStartTime } from './orphans.js';
import { registerBuiltins } from './commands/index.js';
import { defaultPower } from './power.js';

/** Commands whose second run would hurt most: their seen-id record is fsynced. */
const DURABLE = new Set(['reboot', 'shutdown']);

/**
 * Job control answers at once instead of queueing behind foreground commands: a slow or stuck
 * foreground command must never keep an operator from seeing or killing jobs [cp-dispatch-4].
 */
const IMMEDIATE = new Set(['kill', 'is_alive', 'jobs', 'ping', 'send_input', 'replay']);

export class Agent extends EventEmitter {
  readonly name: string;
  readonly registry = new CommandRegistry();
  private readonly o: ResolvedAgentOptions;
  private readonly log: Logger;
  private state!: StateDir;
  private outbox!: Outbox;
  private conn: AgentConnection | undefined;
  private presence!: PresenceState;
  private readonly jobs: JobTable;
  private cwd = process.cwd();
  private foreground: Promise<void> = Promise.resolve();
  private sweeper: NodeJS.Timeout | undefined;
  private firstOnline!: Promise<void>;
  private markOnline!: () => void;
  private failStart!: (err: Error) => void;
  private wasOnline = false;
  private stopped = false;

  constructor(options: AgentOptions) {
    super();
    this.o = resolveAgentOptions(options);
    this.name = this.o.name;
    this.jobs = new JobTable(this.name);
    this.log = this.o.logger.child({ host: this.name });
    registerBuiltins(this.registry);
  }

  /** Registers a foreground command: it runs in order with the other foreground commands. */
  registerCommand<A = unknown[], O = Record<string, unknown>>(name: string, handler: Handler<A, O>, options?: CommandOptions<A, O>): this {
    this.registry.register('foreground', name, handler, options);
    return this;
  }

  /** Registers a background command: a job that runs beside everything else, listed by `jobs`, killable. */
  registerBackgroundCommand<A = unknown[], O = Record<string, unknown>>(name: string, handler: Handler<A, O>, options?: CommandOptions<A, O>): this {
    this.registry.register('background', name, handler, options);
    return this;
  }

  get boot(): number {
    return this.presence.boot;
  }

  get connected(): boolean {
    return this.conn?.connected ?? false;
  }

  /** Connects and resolves once the agent is online (subscribed, presence published). */
  async start(): Promise<void> {
    this.state = new StateDir(resolvePath(this.o.stateDir), Math.max(this.o.replayRetentionMs, MAX_TTL_MS) + this.o.clockSkewMs, { owner: this.name });
    this.presence = {
      host: this.name,
      boot: this.state.nextBoot(),
      conn: 1,
      startedAt: Date.now(),
      labels: this.o.labels,
      commands: () => this.registry.list(),
    };
    this.outbox = new Outbox({ connected: () => this.connected, publish: (t, p) => this.conn!.publish(t, p) }, this.o, this.state.spoolDir);
    this.outbox.onForget = (id) => {
      this.jobs.forget(id);
    };
    this.firstOnline = new Promise((resolve, reject) => {
      this.markOnline = resolve;
      this.failStart = reject;
    });
    this.reportLostJobs();
    this.conn = new AgentConnection(this.o, {
      will: () => ({ topic: topics.status(this.name), payload: Buffer.from(JSON.stringify(offlinePresence(this.presence, 'will'))) }),
      onConnect: (sessionPresent) => void this.onConnect(sessionPresent),
      onClose: () => {
        this.presence.conn++; // the next connection is a new incarnation [cp-presence-3]
        this.outbox.wakeAll();
        this.emit('offline');
      },
      onMessage: (topic, payload, retained) => this.onMessage(topic, payload, retained),
      onRefused: (err) => this.refused(`the broker refused the connection (${err.message}): check --username/--password-file and that the user is an agent named "${this.name}"`),
    });
    this.sweeper = setInterval(() => {
      this.outbox.sweep();
      this.state.prune();
      this.jobs.prune((id) => this.outbox.get(id) !== undefined);
    }, 30_000);
    this.sweeper.unref();
    await this.firstOnline;
  }

  private async onConnect(sessionPresent: boolean): Promise<void> {
    try {
      // [cp-conn-4] a broker without our session (restarted, state lost) has no subscriptions for us.
      if (!sessionPresent || !this.subscribedOnce) {
        await this.conn!.subscribe([topics.cmd(this.name), topics.fleetCmd(), topics.status(this.name)]);
        this.subscribedOnce = true;
      }
      await this.publishOnline();
      this.outbox.pumpAll();
      this.log.info({ boot: this.presence.boot, conn: this.presence.conn, sessionPresent }, 'online');
      this.emit('online');
      this.wasOnline = true;
      this.markOnline();
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'could not come online on this connection');
      if (/refused subscriptions/.test((err as Error).message)) {
        this.refused(`${(err as Error).message}: the user this agent logs in as must have the agent role and the name "${this.name}"`);
      }
      // An 'error' event nobody listens to throws; here that would be an unhandled rejection that
      // ends an embedding process over a refused subscription or a link that dropped before SUBACK.
      if (this.listenerCount('error') > 0) this.emit('error', err);
    }
  }
  private subscribedOnce = false;

  /**
   * A refusal before the agent was ever online is a configuration error: start() fails with it
   * instead of retrying forever. Once it has been online, refusals are retried (a broker being
   * reconfigured), with the usual backoff.
   */
  private refused(message: string): void {
    if (this.wasOnline || this.stopped) return;
    this.stopped = true;
    if (this.sweeper) clearInterval(this.sweeper);
    void this.conn?.end().finally(() => this.state.release());
    this.failStart(new Error(message));
  }

  private publishOnline(): Promise<void> {
    return this.conn!.publish(topics.status(this.name), JSON.stringify(onlinePresence(this.presence)), true);
  }

  private onMessage(topic: string, payload: Buffer, retained: boolean): void {
    try {
      // A retained status arrives when we (re)subscribe, before our own "online" of this connection
      // overwrites it: nothing to repair then. Only a live one can be a late Will.
      if (topic === topics.status(this.name)) return retained ? undefined : this.onOwnStatus(payload);
      if (retained) {
        // [cp-mqtt-2] a retained command would run again on every resubscribe (reboot loops): never run one.
        return this.notice({ type: 'error', error: 'RETAINED', message: 'commands must not be published with the retain flag; not run (clear it with an empty retained message)', topic, excerpt: payload.subarray(0, 200).toString('utf8') });
      }
      this.accept(topic, payload);
    } catch (err) {
      // Nothing a sender does may take the agent down; log and keep serving.
      this.log.error({ err, topic }, 'failed to handle a message');
    }
  }

  /**
   * A Will of an older connection can reach the broker after our "online" (the broker noticed the
   * old link's death late). The retained status then says offline while we are here: say online again.
   */
  private onOwnStatus(payload: Buffer): void {
    const p = decodePresence(payload);
    if (!p || p.online || !this.connected) return;
    const mine = { boot: this.presence.boot, conn: this.presence.conn };
    if (p.boot === mine.boot && p.conn === mine.conn) return;
    if (isNewerOrSame(p, mine)) {
      this.log.error({ other: p }, `another agent publishes as "${this.name}" with a newer incarnation; host names must be unique`);
      return;
    }
    this.log.info({ stale: { boot: p.boot, conn: p.conn } }, 'stale Last Will overwrote presence; republishing online');
    void this.publishOnline().catch(() => undefined);
  }

  private accept(topic: string, payload: Buffer): void {
    if (this.stopped) return;
    const v = judge(
      {
        host: this.name,
        labels: this.o.labels,
        clockSkewMs: this.o.clockSkewMs,
        lookup: (n) => this.registry.get(n),
        known: () => this.registry.list().map((c) => c.name),
        hasSeen: (id) => this.state.hasSeen(id),
        now: Date.now,
      },
      topic,
      payload,
    );
    switch (v.kind) {
      case 'ignore':
        return;
      case 'notice':
        return this.notice({ type: 'error', error: v.error, message: v.message, topic, excerpt: payload.subarray(0, 200).toString('utf8') });
      case 'duplicate':
        // [cp-dedupe-1] a redelivered or retried id never runs twice; its first run's events stand.
        return this.notice({ type: 'duplicate', job: v.id, message: `job ${v.id} was already received; not run again (use replay to get its events)`, topic });
      case 'reject': {
        this.state.markSeen(v.id);
        const log = this.outbox.open(this.name, v.id);
        this.outbox.append(log, { type: 'error', code: ErrorCodes[v.error], error: v.error, message: v.message, durationMs: 0, events: 0 });
        return;
      }
      case 'run':
        return this.startJob(v.id, v.def, v.args, v.opts, v.command);
    }
  }

  private startJob(id: string, def: import('./registry.js').CommandDef, args: unknown[], opts: unknown, command: import('../protocol/index.js').Command): void {
    this.state.begin({ id, cmd: def.name, args, startedAt: Date.now(), boot: this.presence.boot }, DURABLE.has(def.name));
    const log = this.outbox.open(this.name, id);
    log.onTerminalAcked = () => this.state.forgetJob(id);
    const job = new Job(id, def, args, log, this.outbox, this.log.child({ job: id }));
    this.jobs.add(job);
    this.outbox.append(log, { type: 'accepted', cmd: def.name, args, kind: def.kind, boot: this.presence.boot, ...(command.from ? { from: command.from } : {}) });
    const run = () =>
      job.run({
        host: this.name,
        opts,
        cwd: command.cwd ? resolvePath(this.cwd, command.cwd) : this.cwd,
        timeoutMs: command.timeoutMs,
        agent: this.services,
      });
    if (def.kind === 'background' || IMMEDIATE.has(def.name)) void run();
    else {
      // Foreground commands keep their order (cd, then ls). The next one waits for this job's end,
      // not its handler: a killed handler stuck in a syscall (wrfile into a FIFO) must not wedge the queue.
      const turn = () => Promise.race([run(), job.ended]);
      this.foreground = this.foreground.then(turn, turn);
    }
  }

  private notice(n: Omit<AgentNotice, 'v' | 'host' | 'ts'>): void {
    if (!this.connected) return;
    const body: AgentNotice = { v: PROTOCOL_VERSION, host: this.name, ts: Date.now(), ...n };
    void this.conn!.publish(topics.errors(this.name), JSON.stringify(body)).catch(() => undefined);
  }

  /** Jobs a previous life left running: each is reported lost once, never run again [cp-evt-8]. */
  private reportLostJobs(): void {
    for (const rec of this.state.unfinishedJobs()) {
      const log = this.outbox.open(this.name, rec.id, 1);
      log.onTerminalAcked = () => this.state.forgetJob(rec.id);
      this.outbox.append(log, {
        type: 'lost',
        code: ErrorCodes.LOST,
        message: `the agent stopped (crash, kill or power loss) while ${rec.cmd} ran; it was not run again${endOrphanGroup(rec.pid, rec.pidStartTime)}`,
        boot: this.presence.boot,
      });
    }
  }

  private readonly services: AgentServices = {
    getCwd: () => this.cwd,
    setCwd: (dir) => {
      this.cwd = dir;
    },
    jobs: () => this.jobs.infos(),
    sendInput: (id, data, end) => this.jobs.sendInput(id, data, end),
    kill: async (id, signal = 'SIGTERM') => this.jobs.kill(id, signal),
    attachStdin: (id, stdin, pid) => {
      const job = this.jobs.get(id);
      if (job) {
        job.stdin = stdin;
        job.pid = pid;
        if (pid !== undefined) this.state.recordJob({ id, cmd: job.def.name, args: job.args, startedAt: job.startedAt, boot: this.presence.boot, pid, pidStartTime: processStartTime(pid) });
      }
    },
    replay: async (id, fromSeq) => {
      const log = this.outbox.get(id);
      if (!log) throw new CommandError('UNKNOWN_JOB', `no events of job ${id} are kept here (unknown, or older than the replay retention of ${this.o.replayRetentionMs} ms)`);
      return this.outbox.replay(log, fromSeq);
    },
    closeServer: () => {
      setImmediate(() => void this.stop('close_server').then(() => this.emit('closed')));
    },
    power: (action, delaySec = 0) => (this.o.power ?? defaultPower)(action, delaySec),
    commands: () => this.registry.list(),
  };


  /** Kills running jobs, publishes their terminal events and offline presence, and disconnects. */
  async stop(reason: 'shutdown' | 'close_server' = 'shutdown'): Promise<void> {
    if (this.stopped || !this.conn) return;
    this.stopped = true;
    if (this.sweeper) clearInterval(this.sweeper);
    const reasonObj: AbortReason = { kind: 'close', signal: 'SIGTERM' };
    for (const job of this.jobs.running()) job.abort(reasonObj);
    const until = Date.now() + 4_000;
    while (this.jobs.running().length > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 25));
    for (const job of this.jobs.running()) job.fail('CANCELLED', `the agent stopped (${reason})`);
    await this.outbox.drain(2_000);
    if (this.connected) {
      await Promise.race([
        this.conn.publish(topics.status(this.name), JSON.stringify(offlinePresence(this.presence, reason)), true),
        new Promise((r) => setTimeout(r, 2_000)),
      ]).catch(() => undefined);
    }
    await this.conn.end();
    this.state.release();
    this.log.info({ reason }, 'agent stopped');
  }
}

/** The one error code type handlers may throw, re-exported for plugins. */
export type { ErrorCode };
