// The fleet handle: one MQTT connection, the presence view, and the router that hands each job
// event to its JobHandle. Never prints, never exits: callers get values and events.
import { EventEmitter } from 'node:events';
import type { MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import {
  AgentNoticeSchema,
  CommandSchema,
  decodeEvent,
  decodePresence,
  formatIssues,
  isHostName,
  isJobId,
  newJobId,
  parseTopic,
  PROTOCOL_VERSION,
  topics,
  type AgentNotice,
  type CommandInput,
} from '../protocol/index.js';
import type { HostResult } from './collect.js';
import { discardSession, openClient, type ConnectOptions } from './connection.js';
import { ControllerError } from './errors.js';
import { JobHandle, type JobOwner } from './job.js';
import { longTimer } from './long-timer.js';
import { checkSize, jsonPayload, publishCommand, textPayload } from './publish.js';
import { PresenceView, type HostInfo, type PresenceChange } from './presence.js';
import { resolveTarget, type Resolution, type Route, type Target } from './targets.js';

export interface RunOptions {
  /** Named options of the command (the envelope's `opts`). */
  opts?: Record<string, unknown>;
  /** Job timeout the agent enforces (kills the process tree). */
  timeoutMs?: number;
  /** After this long the command must not start (it may sit queued for an offline host). */
  ttlMs?: number;
  cwd?: string;
  /** Job id; default a fresh random one (letters and digits). */
  id?: string;
  /** How long to wait for every host before the rest are `no-answer`; default timeoutMs + graceMs, or forever. */
  waitMs?: number;
  /** Added to timeoutMs for the default waitMs: time for the kill and the result to arrive. Default 3000. */
  graceMs?: number;
  /** Keep stdout/stderr in the results (default true); transfers turn it off and stream instead. */
  keepOutput?: boolean;
}

const CONTROL_WAIT_MS = 10_000;

export class Fleet extends EventEmitter<{ presence: [PresenceChange]; notice: [AgentNotice]; reconnect: []; offline: [] }> implements JobOwner {
  private readonly presence = new PresenceView();
  private readonly jobs = new Map<string, JobHandle>();
  private readonly internal = new WeakSet<JobHandle>();
  private closed = false;
  private lastStatusAt = 0;

  private constructor(readonly client: MqttClient, private readonly url: string, private readonly opts: ConnectOptions, private readonly log?: Logger) {
    super();
    this.presence.on('presence', (c) => this.emit('presence', c));
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
    client.on('offline', () => this.emit('offline'));
    client.on('connect', () => {
      // A controller that reconnects asks each unfinished host for what it may have missed (issue 8).
      for (const job of this.jobs.values()) if (!this.internal.has(job)) job.resume();
      this.emit('reconnect');
    });
  }

  /** @internal use connect(). */
  static async open(url: string, options: ConnectOptions = {}): Promise<Fleet> {
    const log = options.logger?.child({ part: 'controller' });
    const client = await openClient(url, { ...options, logger: log });
    const fleet = new Fleet(client, url, options, log);
    await fleet.waitForHosts();
    return fleet;
  }

  /** The MQTT client id: also the `from` of every command sent. */
  get clientId(): string {
    return this.client.options.clientId!;
  }

  /**
   * Subscribes to every host's retained status (once) and resolves when they stopped arriving:
   * a short settle window after SUBACK, since retained messages follow the SUBACK.
   */
  async waitForHosts(settleMs = this.opts.presenceSettleMs ?? 150, maxMs = 3000): Promise<HostInfo[]> {
    await this.client.subscribeAsync([topics.allStatus(), topics.allErrors()], { qos: 1 });
    const start = Date.now();
    this.lastStatusAt = Math.max(this.lastStatusAt, start);
    while (Date.now() - this.lastStatusAt < settleMs && Date.now() - start < maxMs) {
      await new Promise((r) => setTimeout(r, Math.min(50, settleMs)));
    }
    return this.hosts();
  }

  /** Every host presence has told us about, sorted by name. */
  hosts(): HostInfo[] {
    return this.presence.list();
  }

  host(name: string): HostInfo | undefined {
    return this.presence.get(name);
  }

  /** Which hosts a target selects right now, and how a command to it would be routed. */
  resolve(target: Target): Resolution {
    return resolveTarget(target, this.presence.list());
  }

  /**
   * Runs a command on every host the target selects.
   * @example
   * const job = fleet.run('role=web', 'exec', ['uptime'], { timeoutMs: 10_000 });
   * for await (const item of job) if (item.kind === 'event') console.log(item.host, item.event.type);
   * const results = await job.done();
   */
  run(target: Target, command: string, args: unknown[] = [], options: RunOptions = {}): JobHandle {
    const envelope: CommandInput = {
      v: PROTOCOL_VERSION,
      id: options.id ?? newJobId(),
      cmd: command,
      args,
      opts: options.opts ?? {},
      from: this.clientId,
      ...(options.ttlMs !== undefined ? { ttlMs: options.ttlMs } : {}),
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
    };
    return this.start(target, envelope, options, (route) => jsonPayload(envelope, route));
  }

  /**
   * Sends one plain-text command line (`exec ls -l`, `cd /tmp`) as text; the agent parses it
   * [cp-text-*]. Throws BAD_OPTION when the line does not parse, before anything is sent.
   */
  runText(target: Target, line: string, parsed: CommandInput, options: RunOptions = {}): JobHandle {
    const id = parsed.id ?? options.id ?? newJobId();
    const envelope: CommandInput = { ...parsed, id };
    const build = (route: Route) =>
      textPayload(line, route, {
        id,
        from: this.clientId,
        ttlMs: parsed.ttlMs === undefined ? options.ttlMs : undefined,
        timeoutMs: parsed.timeoutMs === undefined ? options.timeoutMs : undefined,
      });
    return this.start(target, envelope, { ...options, timeoutMs: parsed.timeoutMs ?? options.timeoutMs }, build);
  }

  /**
   * Follows a job someone else started: subscribes to its topic and asks the host to replay it
   * from seq 0, so the stream is complete whenever we join (duplicates are dropped by seq).
   */
  attach(host: string, jobId: string, options: Pick<RunOptions, 'waitMs' | 'keepOutput'> = {}): JobHandle {
    if (!isHostName(host)) throw new ControllerError('BAD_OPTION', `"${host}" is not a valid host name`);
    if (!isJobId(jobId)) throw new ControllerError('BAD_OPTION', `"${jobId}" is not a valid job id`);
    if (this.jobs.has(jobId)) throw new ControllerError('BAD_OPTION', `job ${jobId} is already followed by this controller`);
    const known = this.presence.get(host);
    const handle = new JobHandle(this, {
      id: jobId,
      cmd: '(attached)',
      expected: [host],
      offline: [],
      unknown: known ? [] : [host],
      noMatch: false,
      waitMs: options.waitMs,
      keepOutput: options.keepOutput,
      attach: true,
    });
    this.jobs.set(jobId, handle);
    handle.started = this.subscribeJob(topics.job(host, jobId)).then(() => {
      handle.begin();
      handle.replayAll(host);
    });
    handle.started.catch((e) => {
      this.log?.warn({ err: String(e) }, 'attach failed');
      handle.begin(); // arms the wait, as for run(): done() settles instead of waiting on a failed subscription
    });
    this.guardUnsent(handle, options.waitMs, 'the job subscription could not be made');
    return handle;
  }

  /** Kills a job on one host. */
  async kill(host: string, jobId: string, options: Pick<RunOptions, 'waitMs'> = {}): Promise<HostResult> {
    return this.single(this.run([host], 'kill', [jobId], { waitMs: options.waitMs ?? CONTROL_WAIT_MS }));
  }

  /** Writes text to a running job's stdin on one host. */
  async input(host: string, jobId: string, text: string, options: Pick<RunOptions, 'waitMs'> = {}): Promise<HostResult> {
    return this.single(this.run([host], 'send_input', [jobId, text], { waitMs: options.waitMs ?? CONTROL_WAIT_MS }));
  }

  /** Closes the connection; unfinished jobs settle as they stand (no-answer where nothing came). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const job of [...this.jobs.values()]) job.abandon();
    const wasConnected = this.client.connected;
    await this.client.endAsync();
    // A persistent session outlives us on the broker and would queue every status and event for a
    // client that never returns; one clean connect with our id discards it [MQTT-3.1.2-6].
    if (wasConnected && !this.opts.keepSession) await discardSession(this.url, this.opts, this.clientId);
  }

  // --- JobOwner -------------------------------------------------------------------------------

  /** @internal */
  replay(host: string, job: string, fromSeq: number): Promise<HostResult> {
    this.log?.debug({ host, job, fromSeq }, 'asking for a replay');
    const h = this.run([host], 'replay', [job, fromSeq], { waitMs: CONTROL_WAIT_MS, keepOutput: false });
    this.internal.add(h);
    return this.single(h);
  }

  /** @internal */
  control(host: string, cmd: string, args: unknown[]): Promise<HostResult> {
    return this.single(this.run([host], cmd, args, { waitMs: CONTROL_WAIT_MS }));
  }

  /** @internal */
  release(job: JobHandle): void {
    if (this.jobs.get(job.id) !== job) return;
    this.jobs.delete(job.id);
    if (!this.closed && this.client.connected && !this.opts.allJobs) {
      const filters = [topics.jobAllHosts(job.id), ...job.expected.map((h) => topics.job(h, job.id))];
      const done = this.client.unsubscribeAsync(filters).then(() => undefined, () => undefined);
      for (const f of filters) this.unsubscribing.set(f, done);
      void done.then(() => {
        for (const f of filters) if (this.unsubscribing.get(f) === done) this.unsubscribing.delete(f);
      });
    }
  }

  // --- internals ------------------------------------------------------------------------------

  private allJobsSub: Promise<void> | undefined;
  /**
   * Unsubscribes not yet acknowledged, by filter. A subscribe to the same filter (the same id run or
   * attached again) waits for it: aedes can complete the older UNSUBSCRIBE after the newer SUBSCRIBE
   * and remove the new subscription, and every event of the new job is lost.
   */
  private readonly unsubscribing = new Map<string, Promise<void>>();

  /**
   * One subscription per job, or the one standing `conplyent/+/job/+` with `allJobs`: never both,
   * since overlapping subscriptions make some brokers (aedes) drop or reorder copies.
   */
  private subscribeJob(filter: string): Promise<unknown> {
    if (!this.opts.allJobs) {
      const pending = this.unsubscribing.get(filter);
      return pending ? pending.then(() => this.client.subscribeAsync(filter, { qos: 1 })) : this.client.subscribeAsync(filter, { qos: 1 });
    }
    this.allJobsSub ??= this.client.subscribeAsync(topics.jobAllHosts('+'), { qos: 1 }).then(
      () => undefined,
      (e: unknown) => {
        this.allJobsSub = undefined;
        throw e;
      },
    );
    return this.allJobsSub;
  }

  private async single(h: JobHandle): Promise<HostResult> {
    const [r] = await h.done();
    const host = h.expected[0] ?? '?';
    return r ?? { host, state: 'offline', code: null, signal: null, durationMs: null, stdout: Buffer.alloc(0), stderr: Buffer.alloc(0), error: { code: 'OFFLINE', message: `${host} is not known to this controller` } };
  }

  private start(target: Target, envelope: CommandInput, options: RunOptions, build: (route: Route) => string): JobHandle {
    if (this.closed) throw new ControllerError('CLOSED', 'the fleet connection is closed');
    const checked = CommandSchema.safeParse(envelope);
    if (!checked.success) throw new ControllerError('BAD_OPTION', `invalid command: ${formatIssues(checked.error)}`);
    const res = this.resolve(target);
    const id = envelope.id!;
    if (this.jobs.has(id)) throw new ControllerError('BAD_OPTION', `job id ${id} is already in use by this controller`);
    const waitMs = options.waitMs ?? (options.timeoutMs !== undefined ? options.timeoutMs + (options.graceMs ?? 3000) : undefined);
    const handle = new JobHandle(this, { id, cmd: envelope.cmd, expected: res.expected, offline: res.offline, unknown: res.unknown, noMatch: res.noMatch, waitMs, keepOutput: options.keepOutput });
    if (res.noMatch) {
      handle.begin();
      return handle;
    }
    // Built (and size-checked) now, so a command that can never be sent throws here, not later.
    const body = checkSize(build(res.route));
    this.jobs.set(id, handle);
    // Subscribe before publishing: an agent can answer faster than a late SUBACK.
    handle.started = this.subscribeJob(topics.jobAllHosts(id))
      .then(() => publishCommand(this.client, res.route, body))
      .then(() => handle.begin());
    handle.started.catch((e) => {
      this.log?.warn({ job: id, err: String(e) }, 'publish failed');
      handle.begin();
    });
    this.guardUnsent(handle, waitMs, 'the command could not be sent');
    return handle;
  }

  /** mqtt.js queues a subscribe while the broker is unreachable; the wait must count from now, not from SUBACK. */
  private guardUnsent(handle: JobHandle, waitMs: number | undefined, what: string): void {
    if (waitMs === undefined) return;
    const guard = longTimer(() => handle.unsent(`${what} within ${waitMs} ms (broker unreachable)`), waitMs);
    void handle.started.then(() => guard.clear(), () => guard.clear());
  }

  private onMessage(topic: string, payload: Buffer): void {
    const t = parseTopic(topic);
    if (!t) return;
    if (t.kind === 'status') {
      this.lastStatusAt = Date.now();
      const p = decodePresence(payload);
      if (p) this.presence.apply(t.host, p);
      else if (payload.length === 0) this.presence.remove(t.host);
      else this.log?.debug({ host: t.host }, 'invalid status ignored');
    } else if (t.kind === 'job') {
      const job = this.jobs.get(t.job);
      const ev = job && decodeEvent(payload);
      // The topic's host level is what the broker's ACL vouches for, not the payload's host field.
      if (job && ev) job.onEvent(t.host, ev);
      else if (job) this.log?.debug({ host: t.host, job: t.job }, 'invalid job event ignored');
    } else if (t.kind === 'errors') {
      try {
        const n = AgentNoticeSchema.safeParse(JSON.parse(payload.toString('utf8')));
        if (!n.success) return;
        // The topic's host is what the ACL vouches for; a duplicate of one of our ids is its answer.
        if (n.data.type === 'duplicate' && n.data.job) this.jobs.get(n.data.job)?.duplicate(t.host);
        this.emit('notice', n.data);
      } catch {
        /* not a notice: ignore */
      }
    }
  }
}

/**
 * Connects to the broker and resolves once the retained presence of the fleet has arrived.
 * @example
 * const fleet = await connect('mqtt://broker:1883', { username: 'ops', password: 's3cret' });
 * console.log(fleet.hosts().filter((h) => h.online).map((h) => h.name));
 * await fleet.close();
 */
export function connect(url: string, options: ConnectOptions = {}): Promise<Fleet> {
  return Fleet.open(url, options);
}
