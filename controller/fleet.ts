// The fleet handle: one MQTT connection, the presence view, and the jobs this controller follows
// (router.ts hands each message to them). Never prints, never exits: callers get values and events.
import { EventEmitter } from 'node:events';
import type { MqttClient } from 'mqtt';
import type { ControllerLogger } from './logger.js';
import { checkCommand, DATA_FEATURE, FOLD_FEATURE, OUT_FEATURE, formatIssues, isHostName, isJobId, newJobId, OUTPUT_ENCODINGS, PROTOCOL_VERSION, topics, type AgentNotice, type CommandInput, type FrameProblem, type OutputEncoding } from '../protocol/index.js';
import { HostStream, offlineResult, withReason, type HostResult } from './collect.js';
import type { BrokerRotation } from '../link/broker-list.js';
import { discardSession, endClient, openClient, type ConnectOptions } from './connection.js';
import { ControllerError } from './errors.js';
import { JobHandle, type JobOwner } from './job.js';
import { checkSize, CommandOutbox, framePayload, jsonPayload, publishCommand, textPayload, type Outgoing } from './publish.js';
import { PresenceView, type HostInfo, type PresenceChange } from './presence.js';
import { ControlRequest } from './request.js';
import { routeMessage, type DroppedFrame, type Routes } from './router.js';
import { subscribeEach, subscribeWithin, unsubscribeWithin } from './subscribe.js';
import { resolveTarget, type Resolution, type Route, type Target } from './targets.js';
import { HostKeys } from './trust/host-keys.js';
import { loadSigner, type CommandSigner } from './trust/signer.js';

export interface RunOptions {
  /** Named options of the command (the envelope's `opts`). */
  opts?: Record<string, unknown>;
  /** Job timeout the agent enforces (kills the process tree). */
  timeoutMs?: number;
  /** After this long the command must not start (it may sit queued for an offline host). */
  ttlMs?: number;
  cwd?: string;
  /** Whose current directory the command uses and `cd` moves on the hosts; absent: the shared one [cp-env-12]. */
  session?: string;
  /** Job id; default a fresh random one (letters and digits). */
  id?: string;
  /** How long to wait for every host before the rest are `no-answer`; default timeoutMs + graceMs, or forever. */
  waitMs?: number;
  /** Added to timeoutMs for the default waitMs: time for the kill and the result to arrive. Default 3000. */
  graceMs?: number;
  /** Keep stdout/stderr in the results (default true); transfers turn it off and stream instead. */
  keepOutput?: boolean;
  /** How the hosts write this command's output; default the connection's `out` (`raw`) [cp-env-13]. */
  out?: OutputEncoding;
  /**
   * Ask for one event instead of `accepted` + terminal when the job ends at once [cp-fold-1]
   * (default true). Sent only when every target host announces that it understands it [cp-fold-4].
   */
  fold?: boolean;
  /**
   * Bytes sent as the command's last positional argument, in a command frame instead of JSON
   * [cp-cmdframe-*] (`wrfile` takes them as its data). Only hosts that list `data` in their
   * presence `features` take frames: check with allUnderstand(hosts, DATA_FEATURE) first; BAD_OPTION otherwise.
   */
  data?: Uint8Array;
}

const CONTROL_WAIT_MS = 10_000;

/** What connect() loads before dialling: the pinned agent keys and our own signing key. */
interface Trust {
  keys: HostKeys;
  signer?: CommandSigner;
}

export class Fleet extends EventEmitter<{ presence: [PresenceChange]; notice: [AgentNotice]; droppedFrame: [DroppedFrame]; reconnect: []; offline: [] }> implements JobOwner {
  /** Pinned agent keys: terminal events are verified with them [cp-sig-7] [cp-sig-8]. */
  private readonly keys: HostKeys;
  private readonly presence: PresenceView;
  /** Signs every command for its topic when connect() was given a signingKey. */
  private readonly signer?: CommandSigner;
  private readonly jobs = new Map<string, JobHandle>();
  /** Replays asked for on a job's behalf, by their own job id, until each has its answer. */
  private readonly requests = new Map<string, ControlRequest>();
  private readonly routes: Routes;
  /** Frames dropped because they did not decode, by problem [cp-frame-4]. */
  private readonly dropped: Partial<Record<FrameProblem, number>> = {};
  private closed = false;
  private lastStatusAt = 0;
  private readonly staleSweep: NodeJS.Timeout;

  private constructor(readonly client: MqttClient, private readonly brokers: BrokerRotation, private readonly opts: ConnectOptions, trust: Trust, private readonly log?: ControllerLogger) {
    super();
    this.keys = trust.keys;
    this.signer = trust.signer;
    this.presence = new PresenceView(this.keys);
    this.routes = {
      presence: this.presence,
      follower: (id) => this.jobs.get(id) ?? this.requests.get(id),
      statusSeen: () => (this.lastStatusAt = Date.now()),
      notice: (n) => this.emit('notice', n),
      droppedFrame: (d) => {
        this.dropped[d.problem] = (this.dropped[d.problem] ?? 0) + 1;
        log?.warn(d, 'frame dropped');
        this.emit('droppedFrame', d);
      },
      forgery: (host, topic, ev, payload) => this.keys.checkEvent(host, topic, ev, payload),
      log,
    };
    this.presence.on('presence', (c) => this.emit('presence', c));
    // Staleness changes with time alone (no message marks it): look every second [cp-presence-8].
    this.staleSweep = setInterval(() => this.presence.sweep(), 1000);
    this.staleSweep.unref();
    client.on('message', (topic, payload) => routeMessage(this.routes, topic, payload));
    client.on('offline', () => this.emit('offline'));
    client.on('connect', (connack) => {
      // A broker (or cluster node) without our session has none of our subscriptions.
      if (!connack.sessionPresent) this.standing = this.subscribeStanding(true);
      // Events published while we were away may have been dropped (a broker restart, a session
      // expired, a queue bound): each unfinished job asks its hosts to replay what it is missing.
      void this.standing.then(
        () => {
          for (const job of this.jobs.values()) job.resume();
        },
        (e: unknown) => this.log?.warn({ err: String(e) }, 'could not subscribe again after reconnecting'),
      );
      this.emit('reconnect');
    });
  }

  /** @internal use connect(). */
  static async open(urls: string | readonly string[], options: ConnectOptions = {}): Promise<Fleet> {
    const log = options.logger?.child({ part: 'controller' });
    checkOut(options.out, 'out');
    // Key files are read before dialling: a bad one is BAD_OPTION, not a half-open fleet.
    const trust: Trust = { keys: new HostKeys(options, (m) => log?.warn(m)), signer: options.signingKey !== undefined ? loadSigner(options.signingKey) : undefined };
    const { client, brokers } = await openClient(urls, { ...options, logger: log });
    const fleet = new Fleet(client, brokers, options, trust, log);
    try {
      fleet.standing = fleet.subscribeStanding(false);
      await Promise.all([fleet.standing, fleet.waitForHosts()]);
    } catch (e) {
      await fleet.close().catch(() => undefined);
      throw e;
    }
    return fleet;
  }

  /** The MQTT client id: also the `from` of every command sent. */
  get clientId(): string {
    return this.client.options.clientId!;
  }

  /**
   * Subscribes to every host's retained status and resolves when they stopped arriving: a short
   * settle window after SUBACK, since retained messages follow the SUBACK. Rejects with a SUBSCRIBE
   * error when the broker does not acknowledge within subscribeTimeoutMs.
   */
  async waitForHosts(settleMs = this.opts.presenceSettleMs ?? 150, maxMs = 3000): Promise<HostInfo[]> {
    await subscribeWithin(this.client, topics.allStatus(), this.opts.subscribeTimeoutMs);
    const start = Date.now();
    this.lastStatusAt = Math.max(this.lastStatusAt, start);
    const named = this.opts.awaitHosts?.length ? this.opts.awaitHosts : undefined;
    const allHeard = () => named !== undefined && named.every((h) => this.presence.get(h) !== undefined);
    while (Date.now() - this.lastStatusAt < settleMs && Date.now() - start < maxMs && !allHeard()) {
      await new Promise((r) => setTimeout(r, Math.min(50, settleMs)));
    }
    return this.hosts();
  }

  /** How many frames were dropped since connect, by problem (`short`, `too-large`, `header`, `stream`) [cp-frame-4]. */
  droppedFrames(): Partial<Record<FrameProblem, number>> {
    return { ...this.dropped };
  }

  /** Key id of the key every command is signed with; undefined when commands go unsigned. */
  get signingKeyId(): string | undefined {
    return this.signer?.kid;
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
      ...(options.session !== undefined ? { session: options.session } : {}),
    };
    const data = options.data;
    if (data === undefined) return this.start(target, envelope, options, (route, out) => jsonPayload({ ...envelope, ...out }, route, this.signer));
    // An agent without command frames would answer MALFORMED (not UTF-8), so none is sent to it.
    const { expected } = this.resolve(target);
    const old = expected.filter((h) => !this.allUnderstand([h], DATA_FEATURE));
    if (old.length > 0) throw new ControllerError('BAD_OPTION', `data: ${old.join(', ')} do not take command frames (no "${DATA_FEATURE}" in their presence features); send the bytes in JSON`);
    // Never on the fleet topic, whatever the host count: every agent there would receive the
    // frame, and one without frames answers each chunk MALFORMED [cp-cmdframe-1].
    const direct: Route = { kind: 'direct', hosts: expected };
    return this.start(target, envelope, options, (route, out) => framePayload({ ...envelope, ...out }, data, route.kind === 'fleet' ? direct : route, this.signer));
  }

  /**
   * Sends one plain-text command line (`exec ls -l`, `cd /tmp`) as text; the agent parses it
   * [cp-text-*]. Throws BAD_OPTION when the line does not parse, before anything is sent.
   */
  runText(target: Target, line: string, parsed: CommandInput, options: RunOptions = {}): JobHandle {
    const id = parsed.id ?? options.id ?? newJobId();
    const envelope: CommandInput = { ...parsed, id, ...(parsed.session === undefined && options.session !== undefined ? { session: options.session } : {}) };
    // A text command cannot carry `sig` [cp-sig-4]: signed, it goes out as its JSON form.
    if (this.signer) return this.run(target, parsed.cmd, parsed.args, { ...options, out: parsed.out ?? options.out, fold: parsed.fold ?? options.fold, id, opts: parsed.opts, cwd: parsed.cwd ?? options.cwd, session: parsed.session ?? options.session, ttlMs: parsed.ttlMs ?? options.ttlMs, timeoutMs: parsed.timeoutMs ?? options.timeoutMs });
    const build = (route: Route, out: RawAsk & FoldAsk) =>
      textPayload(line, route, {
        id,
        out: parsed.out === undefined ? out.out : undefined,
        fold: parsed.fold === undefined ? out.fold : undefined,
        from: this.clientId,
        ttlMs: parsed.ttlMs === undefined ? options.ttlMs : undefined,
        timeoutMs: parsed.timeoutMs === undefined ? options.timeoutMs : undefined,
        session: parsed.session === undefined ? options.session : undefined,
      });
    return this.start(target, envelope, { ...options, timeoutMs: parsed.timeoutMs ?? options.timeoutMs }, build);
  }

  /**
   * Follows a job someone else started, on one host or every host a target selects: subscribes to
   * its topic and asks each host to replay it from seq 0, so the stream is complete whenever we join
   * (duplicates are dropped by seq). A host that does not know the job settles with UNKNOWN_JOB.
   * @example
   * const results = await fleet.attach('role=web', jobId, { waitMs: 60_000 }).done();
   */
  attach(target: Target, jobId: string, options: Pick<RunOptions, 'waitMs' | 'keepOutput'> = {}): JobHandle {
    if (!isJobId(jobId)) throw new ControllerError('BAD_OPTION', `"${jobId}" is not a valid job id`);
    if (this.jobs.has(jobId)) throw new ControllerError('BAD_OPTION', `job ${jobId} is already followed by this controller`);
    const res = this.resolve(target);
    // One host presence never saw is still asked: its job may be older than our presence view.
    const lone = res.noMatch && typeof target === 'string' && isHostName(target) ? target : undefined;
    const expected = lone ? [lone] : res.expected;
    const handle = new JobHandle(this, {
      id: jobId,
      cmd: '(attached)',
      expected,
      offline: [],
      unknown: lone ? [lone] : res.unknown,
      noMatch: expected.length === 0,
      waitMs: options.waitMs,
      keepOutput: options.keepOutput,
      attach: true,
    });
    if (handle.noMatch) return handle;
    this.jobs.set(jobId, handle);
    const filter = expected.length === 1 ? topics.job(expected[0]!, jobId) : topics.jobAllHosts(jobId);
    handle.launch(() => this.subscribeJob(filter), 'the job subscription could not be made').catch((e: unknown) => this.log?.warn({ err: String(e) }, 'attach failed'));
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
    clearInterval(this.staleSweep);
    for (const job of [...this.jobs.values()]) job.abandon();
    for (const req of [...this.requests.values()]) req.abandon('the controller closed before it had a result');
    const wasConnected = this.client.connected;
    const url = this.brokers.current; // read before the close moves the rotation on
    await endClient(this.client, wasConnected);
    // A persistent session outlives us on the broker and would queue every status and event for a
    // client that never returns; one clean connect with our id discards it [MQTT-3.1.2-6].
    if (wasConnected && !this.opts.keepSession) await discardSession(url, this.opts, this.clientId);
  }

  // --- JobOwner -------------------------------------------------------------------------------

  /** @internal a one-shot request, not a job: nothing to stream, recover or resume. */
  replay(host: string, job: string, fromSeq: number): Promise<HostResult> {
    this.log?.debug({ host, job, fromSeq }, 'asking for a replay');
    // Never a rejection: a job's recovery awaits this from a timer, with nobody to catch it.
    if (this.closed) return Promise.resolve(withReason(new HostStream(host).result(), 'the fleet connection is closed'));
    const res = this.resolve([host]);
    if (res.noMatch) return Promise.resolve(neverSeen(host));
    // A replay is asked again while the host does not answer (recovery.ts): a copy that reaches it
    // later than this request waits for is EXPIRED [cp-env-5], so a host coming back does not
    // replay the same events once per unanswered request.
    const envelope: CommandInput = { v: PROTOCOL_VERSION, id: newJobId(), cmd: 'replay', args: [job, fromSeq], opts: {}, from: this.clientId, ttlMs: CONTROL_WAIT_MS, ...this.foldAsk({}, [host]) };
    const body = checkSize(jsonPayload(envelope, res.route, this.signer));
    const req = new ControlRequest(envelope.id!, host, CONTROL_WAIT_MS, (r) => {
      if (this.requests.get(r.id) === r) this.requests.delete(r.id);
      this.unsubscribeJob(r.id, [host]);
    });
    this.requests.set(req.id, req);
    this.subscribeJob(topics.jobAllHosts(req.id))
      .then(() => publishCommand(this.client, body))
      .then(
        () => res.offline.includes(host) && req.offline(),
        (e: unknown) => req.abandon(`the replay request could not be sent: ${String(e)}`),
      );
    return req.done;
  }

  /** @internal */
  control(host: string, cmd: string, args: unknown[]): Promise<HostResult> {
    return this.single(this.run([host], cmd, args, { waitMs: CONTROL_WAIT_MS }));
  }

  /** @internal */
  release(job: JobHandle): void {
    if (this.jobs.get(job.id) !== job) return;
    this.jobs.delete(job.id);
    this.unsubscribeJob(job.id, job.expected);
  }

  // --- internals ------------------------------------------------------------------------------

  /** The standing subscriptions, made at connect and again after a reconnect without a session. */
  private standing: Promise<void> = Promise.resolve();
  /** Per-job filters in use (allJobs false), subscribed again after a reconnect without a session. */
  private readonly perJob = new Set<string>();
  /**
   * Unsubscribes not yet acknowledged, by filter. A subscribe to the same filter (the same id run or
   * attached again) waits for it: aedes can complete the older UNSUBSCRIBE after the newer SUBSCRIBE
   * and remove the new subscription, and every event of the new job is lost.
   */
  private readonly unsubscribing = new Map<string, Promise<void>>();

  private get allJobs(): boolean {
    return this.opts.allJobs ?? true;
  }

  /**
   * Errors notices and (allJobs) every job topic, one SUBSCRIBE each; `again` adds the status topic
   * and the per-job filters in use, which a broker without our session has forgotten too.
   */
  private subscribeStanding(again: boolean): Promise<void> {
    const filters = [topics.allErrors(), ...(this.allJobs ? [topics.jobAllHosts('+')] : [])];
    if (again) filters.push(topics.allStatus(), ...this.perJob);
    return subscribeEach(this.client, filters, this.opts.subscribeTimeoutMs);
  }

  /**
   * The standing `conplyent/+/job/+` already covers every job (allJobs); otherwise one subscription
   * for this job. Never both: overlapping subscriptions make some brokers (aedes) drop or reorder copies.
   */
  private subscribeJob(filter: string): Promise<unknown> {
    if (this.allJobs) return this.standing;
    this.perJob.add(filter);
    const pending = this.unsubscribing.get(filter);
    const subscribe = () => subscribeWithin(this.client, filter, this.opts.subscribeTimeoutMs);
    return pending ? pending.then(subscribe) : subscribe();
  }

  /** Drops a finished job's subscriptions (the fleet-wide one and any per host); the standing one of allJobs stays. */
  private unsubscribeJob(id: string, hosts: readonly string[]): void {
    if (this.closed || this.allJobs) return;
    const filters = [topics.jobAllHosts(id), ...hosts.map((h) => topics.job(h, id))];
    for (const f of filters) this.perJob.delete(f);
    if (!this.client.connected) return;
    // One topic per UNSUBSCRIBE, like SUBSCRIBE (subscribe.ts).
    const done = Promise.all(filters.map((f) => unsubscribeWithin(this.client, f, this.opts.subscribeTimeoutMs))).then(() => undefined);
    for (const f of filters) this.unsubscribing.set(f, done);
    void done.then(() => {
      for (const f of filters) if (this.unsubscribing.get(f) === done) this.unsubscribing.delete(f);
    });
  }

  private async single(h: JobHandle): Promise<HostResult> {
    const [r] = await h.done();
    return r ?? neverSeen(h.expected[0] ?? '?');
  }

  /**
   * `out: "raw"` when this command's output should come as frames and every host it goes to says it
   * writes them [cp-env-13]; an agent that predates frames refuses the field (BAD_ENVELOPE), so
   * a host presence does not vouch for (unknown, or an older agent) gets today's JSON events.
   */
  private rawAsk(options: RunOptions, hosts: readonly string[]): RawAsk {
    return (options.out ?? this.opts.out ?? 'raw') === 'raw' && this.allUnderstand(hosts, OUT_FEATURE) ? { out: 'raw' } : {};
  }

  /**
   * `fold: true` unless the caller said no, when every host the command goes to announced that it
   * understands it [cp-fold-4]: an agent that does not know the field refuses the whole command
   * [cp-env-10], and one payload serves all hosts of a fleet publish.
   */
  private foldAsk(options: RunOptions, hosts: readonly string[]): FoldAsk {
    return options.fold !== false && this.allUnderstand(hosts, FOLD_FEATURE) ? { fold: true } : {};
  }

  /**
   * Every host lists the optional envelope field in its presence `features` (none: no host to vouch).
   * @example
   * const framed = fleet.allUnderstand(['web-1'], DATA_FEATURE); // command frames for put chunks
   */
  allUnderstand(hosts: readonly string[], feature: string): boolean {
    return hosts.length > 0 && hosts.every((h) => this.presence.features(h)?.includes(feature));
  }

  private start(target: Target, envelope: CommandInput, options: RunOptions, build: (route: Route, out: RawAsk & FoldAsk) => Outgoing[]): JobHandle {
    if (this.closed) throw new ControllerError('CLOSED', 'the fleet connection is closed');
    checkOut(options.out, 'out');
    const checked = checkCommand(envelope);
    if (!checked.success) throw new ControllerError('BAD_OPTION', `invalid command: ${formatIssues(checked.error)}`);
    const res = this.resolve(target);
    const id = envelope.id!;
    if (this.jobs.has(id)) throw new ControllerError('BAD_OPTION', `job id ${id} is already in use by this controller`);
    const waitMs = options.waitMs ?? (options.timeoutMs !== undefined ? options.timeoutMs + (options.graceMs ?? 3000) : undefined);
    const handle = new JobHandle(this, { id, cmd: envelope.cmd, expected: res.expected, offline: res.offline, unknown: res.unknown, stale: res.stale, noMatch: res.noMatch, waitMs, keepOutput: options.keepOutput });
    if (res.noMatch) return handle;
    // Built (and size-checked) now, so a command that can never be sent throws here, not later.
    const body = checkSize(build(res.route, { ...this.rawAsk(options, res.expected), ...this.foldAsk(options, res.expected) }));
    this.jobs.set(id, handle);
    // Subscribed before publishing (standing, or this job's own): an agent can answer faster than a late SUBACK.
    const outbox = new CommandOutbox(this.client, body);
    const send = () => this.subscribeJob(topics.jobAllHosts(id)).then(() => outbox.send());
    handle.launch(send, 'the command could not be sent', () => outbox.withdraw()).catch((e: unknown) => this.log?.warn({ job: id, err: String(e) }, 'publish failed'));
    return handle;
  }
}

/** The envelope field asking for frames, or nothing (JSON events). */
type RawAsk = { out?: 'raw' };
type FoldAsk = { fold?: true };

/** A bad `out` is a BAD_OPTION naming the value, before anything is sent. */
function checkOut(out: unknown, what: string): void {
  if (out !== undefined && !(OUTPUT_ENCODINGS as readonly unknown[]).includes(out)) {
    throw new ControllerError('BAD_OPTION', `${what}: ${JSON.stringify(out)} is not one of ${OUTPUT_ENCODINGS.join(', ')}`);
  }
}

/** The answer for a host presence has never seen: nothing was sent to it. */
function neverSeen(host: string): HostResult {
  return offlineResult(host, `${host} is not known to this controller`);
}

/**
 * Connects to the broker and resolves once the retained presence of the fleet has arrived. Several
 * URLs (an array or `a,b,c`) are the nodes of one cluster: the first that answers is used, and every
 * reconnect moves to the next [cp-conn-7].
 * @example
 * const fleet = await connect(['mqtt://node1:1883', 'mqtt://node2:1883'], { username: 'ops', password: 's3cret' });
 * console.log(fleet.hosts().filter((h) => h.online).map((h) => h.name));
 * await fleet.close();
 */
export function connect(urls: string | readonly string[], options: ConnectOptions = {}): Promise<Fleet> {
  return Fleet.open(urls, options);
}
