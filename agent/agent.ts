// The agent, the composition root: it wires one connection and its intake (inbound/), one job
// launcher and job table (jobs/), one outbox (outbound/) and one state directory (state/), and keeps
// its presence honest. Messages flow in -> judge -> run -> out; the parts meet only here.
import { EventEmitter } from 'node:events';
import { homedir } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';
import type { Logger } from 'pino';
import { MAX_TTL_MS, PROTOCOL_VERSION, publicKeyText, topics, type AgentNotice, type AuditEntry, type ErrorCode } from '../protocol/index.js';
import { acceptedEntry, outcomeEntry, refusedEntry } from './audit/decisions.js';
import { AuditLog } from './audit/log.js';
import { queryAudit } from './audit/query.js';
import { AuditReads } from './audit/reads.js';
import { SessionDirs } from './session-dirs.js';
import { registerBuiltins } from './commands/index.js';
import { AgentConnection } from './inbound/connection.js';
import { Intake, type Notice } from './inbound/intake.js';
import type { ForgedVerdict, RejectVerdict, RunVerdict } from './inbound/judge.js';
import { judgeOwnStatus } from './inbound/own-status.js';
import { SubscriptionRefused } from './inbound/refusals.js';
import type { AbortReason } from './jobs/abort.js';
import { JobLauncher } from './jobs/launcher.js';
import { JobTable } from './jobs/job-table.js';
import { defaultPower } from './jobs/power.js';
import { resolveAgentOptions, type AgentOptions, type ResolvedAgentOptions } from './options.js';
import { Outbox } from './outbound/outbox.js';
import { offlinePresence, onlinePresence, type PresenceState } from './presence.js';
import { CommandError, CommandRegistry, type AgentServices, type CommandOptions, type Handler } from './registry.js';
import { doubt, type StateHealth } from './state/health.js';
import { StateDir } from './state/state-dir.js';
import { loadOrCreateOwnKey } from './trust/keys.js';
import { TrustState } from './trust/trust-state.js';

export class Agent extends EventEmitter {
  readonly name: string;
  readonly registry = new CommandRegistry();
  /** Closes the files built-in commands hold open between commands (an upload's). */
  private readonly closeFiles: () => Promise<void>;
  private readonly o: ResolvedAgentOptions;
  private readonly log: Logger;
  private state!: StateDir;
  private outbox!: Outbox;
  private launcher!: JobLauncher;
  private conn: AgentConnection | undefined;
  private presence!: PresenceState;
  private readonly jobs: JobTable;
  private trust!: TrustState;
  /** Absent only when the state directory is unavailable: then every command is refused anyway [cp-state-2]. */
  private audit: AuditLog | undefined;
  /** Outcome records written at the end of the turn that sent the job's terminal event. */
  private readonly pendingOutcomes = new Set<AuditEntry>();
  private readonly dirs = new SessionDirs(process.cwd());
  /** Audit queries, one at a time (reads.ts); the state directory is read when a query runs. */
  private readonly auditReads = new AuditReads((q) => queryAudit(join(this.state.dir, 'audit'), q));
  private sweeper: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private firstOnline!: Promise<void>;
  private markOnline!: () => void;
  private failStart!: (err: Error) => void;
  private wasOnline = false;
  private subscribedOnce = false;
  private stopped = false;
  /** What the built-in commands reach of the agent around them. */
  private readonly services: AgentServices = {
    getCwd: (session) => this.dirs.get(session),
    setCwd: (dir, session) => this.dirs.set(dir, session),
    jobs: () => this.jobs.infos(),
    sendInput: (id, data, end) => this.jobs.sendInput(id, data, end),
    kill: async (id, signal = 'SIGTERM') => this.jobs.kill(id, signal),
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
    audit: (q) => this.auditReads.run(q),
  };

  constructor(options: AgentOptions) {
    super();
    this.o = resolveAgentOptions(options);
    this.name = this.o.name;
    this.jobs = new JobTable(this.name);
    this.log = this.o.logger.child({ host: this.name });
    this.closeFiles = registerBuiltins(this.registry);
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
    // An invalid policy stops the start before anything is locked or connected (the CLI exits 2).
    this.trust = new TrustState({
      policyFile: this.o.policyFile,
      requireSigned: this.o.requireSigned,
      trustedKeys: this.o.trustedKeys,
      logger: this.log,
      onChange: () => {
        if (this.connected) void this.publishOnline().catch(() => undefined);
      },
    });
    await this.trust.start();
    this.state = new StateDir(resolvePath(this.o.stateDir), Math.max(this.o.replayRetentionMs, MAX_TTL_MS) + this.o.clockSkewMs, {
      owner: this.name,
      onHealth: (h) => this.onStateHealth(h),
    });
    if (this.state.health().status !== 'ok') this.logStateHealth(this.state.health());
    let ownKey;
    try {
      ownKey = loadOrCreateOwnKey(this.o.keyFile);
      this.audit = new AuditLog({ dir: join(this.state.dir, 'audit') });
    } catch (err) {
      // An unavailable state directory is said loudly on the wire instead of keeping the agent down
      // [cp-state-2]: it comes online, unsigned and without an audit log, and refuses every command.
      if (this.state.health().status !== 'unavailable') {
        this.trust.close();
        this.state.release();
        throw err;
      }
      this.log.error({ err: (err as Error).message }, 'state directory unavailable: no signing key and no audit log; every command is refused');
    }
    if (this.audit && this.audit.opened.truncatedBytes > 0) this.log.warn({ truncatedBytes: this.audit.opened.truncatedBytes }, 'audit log: cut a torn last record (a write interrupted by a crash or power loss)');
    this.presence = {
      host: this.name,
      boot: this.state.nextBoot(),
      conn: 1,
      startedAt: Date.now(),
      labels: this.o.labels,
      commands: () => this.registry.list(),
      hbSec: this.o.heartbeatSec,
      ...(ownKey ? { key: publicKeyText(ownKey) } : {}),
      requireSigned: () => this.trust.trust().requireSigned,
      state: () => this.state.health(),
    };
    this.outbox = new Outbox({ connected: () => this.connected, publish: (t, p) => this.conn!.publish(t, p) }, this.o, this.state.spoolDir, {
      onTerminalAcked: (id) => this.state.forgetJob(id),
      onForget: (id) => this.jobs.forget(id),
    }, ownKey);
    this.launcher = new JobLauncher({
      host: this.name,
      state: this.state,
      outbox: this.outbox,
      jobs: this.jobs,
      logger: this.log,
      services: this.services,
      boot: () => this.presence.boot,
      cwd: (session) => this.dirs.get(session),
      onEnded: (job, v) => {
        const entry = outcomeEntry(v, job.outcome ?? 'FAILED', Date.now() - job.startedAt);
        // Written once the job's terminal event has left: the socket write waits for the turn's end
        // (the connection corks until setImmediate), and this append need not sit in front of it.
        // The decision, the record that gates the run, is still written before anything runs.
        this.pendingOutcomes.add(entry);
        setImmediate(() => this.pendingOutcomes.delete(entry) && this.record(entry));
      },
    });
    this.firstOnline = new Promise((resolve, reject) => {
      this.markOnline = resolve;
      this.failStart = reject;
    });
    this.launcher.reportLost();
    const intake = new Intake({
      env: {
        host: this.name,
        labels: this.o.labels,
        clockSkewMs: this.o.clockSkewMs,
        lookup: (n) => this.registry.get(n),
        known: () => this.registry.list().map((c) => c.name),
        hasSeen: (id) => this.state.hasSeen(id),
        now: Date.now,
        trust: () => this.trust.trust(),
        policy: () => this.trust.policy(),
        running: () => this.launcher.running(),
        maxJobs: this.o.maxJobs,
        cwd: (session) => this.dirs.get(session),
        home: homedir(),
        doubt: (c) => doubt(this.state.health(), c, Date.now(), this.o.clockSkewMs),
      },
      logger: this.log,
      accepting: () => !this.stopped,
      ownStatus: (payload) => this.onOwnStatus(payload),
      notice: (n) => this.notice(n),
      forged: (v, n) => this.forged(v, n),
      reject: (v) => this.reject(v),
      run: (v) => this.run(v),
    });
    this.conn = new AgentConnection(this.o, {
      will: () => ({ topic: topics.status(this.name), payload: Buffer.from(JSON.stringify(offlinePresence(this.presence, 'will'))) }),
      onConnect: (sessionPresent) => void this.onConnect(sessionPresent),
      onClose: () => {
        this.presence.conn++; // the next connection is a new incarnation [cp-presence-3]
        this.outbox.wakeAll();
        this.emit('offline');
      },
      onMessage: (topic, payload, retained) => intake.receive(topic, payload, retained),
      onRefused: (err) => this.refused(`the broker refused the connection (${err.message}): check --username/--password-file and that the user is an agent named "${this.name}"`),
    });
    this.sweeper = setInterval(() => {
      this.outbox.sweep();
      this.state.prune();
      this.jobs.prune((id) => this.outbox.get(id) !== undefined);
    }, 30_000);
    this.sweeper.unref();
    // [cp-presence-7] A Will needs the broker node that held the connection; a heartbeat does not.
    this.heartbeat = setInterval(() => {
      if (this.connected && !this.stopped) void this.publishOnline().catch(() => undefined);
    }, this.o.heartbeatSec * 1000);
    this.heartbeat.unref();
    await this.firstOnline;
  }

  private async onConnect(sessionPresent: boolean): Promise<void> {
    try {
      // [cp-conn-4] a broker without our session (restarted, state lost) has no subscriptions for us.
      this.presence.onlineSince = Date.now();
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
      if (err instanceof SubscriptionRefused) {
        this.refused(`${err.message}: the user this agent logs in as must have the agent role and the name "${this.name}"`);
      }
      // An 'error' event nobody listens to throws; here that would be an unhandled rejection that
      // ends an embedding process over a refused subscription or a link that dropped before SUBACK.
      if (this.listenerCount('error') > 0) this.emit('error', err);
    }
  }

  /**
   * A refusal before the agent was ever online is a configuration error: start() fails with it
   * instead of retrying forever. Once it has been online, refusals are retried (a broker being
   * reconfigured), with the usual backoff.
   */
  private refused(message: string): void {
    if (this.wasOnline || this.stopped) return;
    this.stopped = true;
    if (this.sweeper) clearInterval(this.sweeper);
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.trust.close();
    void this.conn?.end().finally(() => {
      this.audit?.close();
      this.state.release();
    });
    this.failStart(new Error(message));
  }

  /** [cp-state-3] never silent: the log says what is wrong with the state directory and what is refused. */
  private logStateHealth(h: StateHealth): void {
    if (h.status === 'damaged') this.log.error({ state: h }, `state damaged: ${h.reason}; commands sent before ${new Date(h.since).toISOString()} (and, until ${new Date(h.until).toISOString()}, commands with an id but no sentAt) are refused with STATE_DAMAGED; fresh commands run`);
    else if (h.status === 'unavailable') this.log.error({ state: h }, `state unavailable: ${h.reason}; every command is refused with STATE_UNAVAILABLE`);
    else this.log.info('state directory healthy again');
  }

  /** The state directory's health changed while running: say so in the log and in presence. */
  private onStateHealth(h: StateHealth): void {
    this.logStateHealth(h);
    if (this.connected) void this.publishOnline().catch(() => undefined);
  }

  private publishOnline(): Promise<void> {
    return this.conn!.publish(topics.status(this.name), JSON.stringify(onlinePresence(this.presence)), true);
  }

  /** A live offline status of ours while we are connected: a late Will, or another agent using our name. */
  private onOwnStatus(payload: Buffer): void {
    // While stopping, the offline status is our own goodbye.
    if (!this.connected || this.stopped) return;
    const v = judgeOwnStatus(payload, { boot: this.presence.boot, conn: this.presence.conn });
    if (v.kind === 'impostor') this.log.error({ other: v.other }, `another agent publishes as "${this.name}" with a newer incarnation; host names must be unique`);
    if (v.kind === 'fine' || v.kind === 'impostor') return;
    this.log.info({ [v.kind]: { boot: v.other.boot, conn: v.other.conn } }, v.kind === 'stale' ? 'stale Last Will overwrote presence; republishing online' : 'our Will was published while we are connected; republishing online');
    void this.publishOnline().catch(() => undefined);
  }

  /** Appends to the audit log; false (and logged) when the disk refuses. */
  private record(entry: AuditEntry): boolean {
    try {
      if (!this.audit) return false;
      this.audit.append(entry);
      return true;
    } catch (err) {
      this.log.error({ err: (err as Error).message, job: entry.job }, 'audit log append failed');
      return false;
    }
  }

  private forged(v: ForgedVerdict, n: Notice): void {
    this.record(refusedEntry(v));
    this.log.warn({ job: v.id, kid: v.kid, error: v.error }, 'refused a command whose signature does not hold');
    this.notice(n);
  }

  private reject(v: RejectVerdict): void {
    this.record(refusedEntry(v));
    this.launcher.reject(v);
  }

  /** A command runs only once its decision is on record: no audit, no run. */
  private run(v: RunVerdict): void {
    if (this.record(acceptedEntry(v))) return this.launcher.start(v);
    this.launcher.reject({ kind: 'reject', id: v.id, cmd: v.def.name, args: v.args, error: 'FAILED', message: 'the audit log cannot be written; not run (see the agent log)' });
  }

  private notice(n: Notice): void {
    if (!this.connected) return;
    const body: AgentNotice = { v: PROTOCOL_VERSION, host: this.name, ts: Date.now(), ...n };
    void this.conn!.publish(topics.errors(this.name), JSON.stringify(body)).catch(() => undefined);
  }

  /** Kills running jobs, publishes their terminal events and offline presence, and disconnects. */
  async stop(reason: 'shutdown' | 'close_server' = 'shutdown'): Promise<void> {
    if (this.stopped || !this.conn) return;
    this.stopped = true;
    if (this.sweeper) clearInterval(this.sweeper);
    if (this.heartbeat) clearInterval(this.heartbeat);
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
    await this.closeFiles();
    this.trust.close();
    // Outcomes whose turn has not come yet (a job failed by the stop itself) go in before the log closes.
    for (const entry of this.pendingOutcomes) this.record(entry);
    this.pendingOutcomes.clear();
    this.audit?.close();
    this.state.release();
    this.log.info({ reason }, 'agent stopped');
  }
}

/** The one error code type handlers may throw, re-exported for plugins. */
export type { ErrorCode };
