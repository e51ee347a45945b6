// Soak: mixed commands against several agents on the embedded aedes broker while things go wrong —
// a stalled subscriber on conplyent/# at QoS 1, agents SIGKILLed and restarted, the broker restarted
// (its sessions kept in dataDir). Reports what must stay zero: executions twice (a marker file per
// job id counts runs), lost events (seq gaps never healed by replay), and the worst ping to an agent
// that is never killed. Bounded: ~5 minutes, ~45 s with --quick, then a bounded settle and heal.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { nanoid } from 'nanoid';
import { spawnAgent, type AgentProc } from '../../test/helpers/agent-proc.js';
import { spawnBroker, type BrokerProc } from '../../test/helpers/broker-proc.js';
import { decodeEvent, isTerminal, topics } from '../../protocol/index.js';
import { freePort } from '../lib/brokers.js';
import { rawClient } from '../lib/clients.js';
import { banner } from '../lib/report.js';
import { stalledSubscriber, type StalledSubscriber } from '../lib/stalled.js';
import { nowMs, sleep, within } from '../lib/stats.js';
import type { Ctx } from './context.js';

const WORKERS = ['soak-1', 'soak-2', 'soak-3'];
const PINGED = 'soak-ping';
/** Pings sent this close to a broker restart measure the restart, not the agent: not counted. */
const RESTART_SHADOW_MS = 8_000;

interface JobSeen {
  host: string;
  seqs: Set<number>;
  /** The terminal event's type and seq, once seen. */
  end?: { type: string; seq: number };
}

/** A job that ended with result or error (a `lost` comes from a restarted agent, whatever its seq) and lacks a seq before its end. */
function missing(j: JobSeen): boolean {
  return !!j.end && j.end.type !== 'lost' && [...Array(j.end.seq).keys()].some((s) => !j.seqs.has(s));
}

function describeGaps(gaps: [string, JobSeen][]): string {
  return gaps
    .slice(0, 5)
    .map(([id, j]) => `${j.host}/${id} seq ${[...Array(j.end!.seq).keys()].filter((s) => !j.seqs.has(s)).join(',')} of ${j.end!.seq}`)
    .join('; ');
}

export async function soak(ctx: Ctx): Promise<void> {
  banner('soak');
  const durationMs = ctx.quick ? 45_000 : 300_000;
  const root = join(ctx.tmp, 'soak');
  const markers = join(root, 'markers');
  mkdirSync(markers, { recursive: true });
  const port = await freePort();
  const url = `mqtt://127.0.0.1:${port}`;
  const brokerOpts = { port, dataDir: join(root, 'broker') };
  let broker: BrokerProc = await spawnBroker(brokerOpts);
  const agents = new Map<string, AgentProc>();
  const startAgent = async (name: string) => {
    agents.set(name, await spawnAgent({ broker: url, name, stateDir: join(root, name), powerLog: join(root, `${name}.power`), keepaliveSec: 5, reconnectMinMs: 200, reconnectMaxMs: 2_000 }, 30_000));
  };
  for (const n of [PINGED, ...WORKERS]) await startAgent(n);

  // The observer: a persistent session, so events published while it reconnects wait for it.
  const jobs = new Map<string, JobSeen>();
  const observer = mqtt.connect(url, { clientId: `soak-observer-${nanoid(6)}`, clean: false, protocolVersion: 4, reconnectPeriod: 200, keepalive: 10 });
  observer.on('error', () => {});
  await within(new Promise((r) => observer.once('connect', r)), 10_000, 'observer connect');
  await observer.subscribeAsync('conplyent/+/job/+', { qos: 1 });
  const pingWaits = new Map<string, () => void>();
  observer.on('message', (_topic, payload) => {
    const ev = decodeEvent(payload);
    if (!ev) return;
    const j = jobs.get(ev.job) ?? { host: ev.host, seqs: new Set<number>() };
    jobs.set(ev.job, j);
    j.seqs.add(ev.seq);
    if (isTerminal(ev)) {
      j.end ??= { type: ev.type, seq: ev.seq };
      pingWaits.get(ev.job)?.();
      // As a controller does: a terminal event with a seq missing before it asks for a replay, soon
      // (the agent keeps acknowledged events 10 min, but not across its own restart).
      if (missing(j)) setTimeout(() => heal(ev.job), 1_000).unref();
    }
  });
  const healed = new Set<string>();
  const heal = (job: string) => {
    const j = jobs.get(job);
    if (!j || !missing(j)) return;
    healed.add(job);
    sender.publish(topics.cmd(j.host), JSON.stringify({ v: 1, id: nanoid(), cmd: 'replay', args: [job, 0], sentAt: Date.now() }), { qos: 1 });
  };
  const sender = await rawClient(url);
  let stalled: StalledSubscriber = stalledSubscriber(port, `soak-stalled-${nanoid(6)}`);

  const sent: { id: string; host: string; payload: string }[] = [];
  const send = (host: string, body: object) => {
    const id = nanoid();
    const payload = JSON.stringify({ v: 1, id, sentAt: Date.now(), ...body });
    sent.push({ id, host, payload });
    sender.publish(topics.cmd(host), payload, { qos: 1 });
    return id;
  };
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(Math.random() * xs.length)];

  const pings: number[] = [];
  let pingTimeouts = 0;
  let lastRestart = -Infinity;
  let kills = 0;
  let restarts = 0;
  const end = Date.now() + durationMs;
  const killEvery = ctx.quick ? 8_000 : 20_000;
  const restartEvery = ctx.quick ? 20_000 : 60_000;
  let nextKill = Date.now() + killEvery;
  let nextRestart = Date.now() + restartEvery;

  const pinger = (async () => {
    while (Date.now() < end) {
      const id = nanoid();
      const t0 = nowMs();
      const sentAt = Date.now();
      const done = new Promise<void>((r) => pingWaits.set(id, r));
      sender.publish(topics.cmd(PINGED), JSON.stringify({ v: 1, id, cmd: 'ping', sentAt }), { qos: 1 });
      try {
        await within(done, 15_000, 'ping');
        if (Math.abs(sentAt - lastRestart) > RESTART_SHADOW_MS) pings.push(nowMs() - t0);
      } catch {
        if (Math.abs(sentAt - lastRestart) > RESTART_SHADOW_MS) pingTimeouts++;
      } finally {
        pingWaits.delete(id);
      }
      await sleep(1_000);
    }
  })();

  try {
    while (Date.now() < end) {
      const host = pick(WORKERS);
      const r = Math.random();
      if (r < 0.55) send(host, { cmd: 'exec', args: ['sh', '-c', `echo run >> ${join(markers, `m-${nanoid(10)}`)}`] });
      else if (r < 0.75) send(host, { cmd: 'count', args: [20 + Math.floor(Math.random() * 200)] });
      else if (r < 0.85) send(host, { cmd: 'ping' });
      else if (r < 0.95) send(host, { cmd: 'jobs' });
      else if (sent.length) {
        // A redelivery, as QoS 1 may make one: the same payload again must never run again.
        const again = pick(sent);
        sender.publish(topics.cmd(again.host), again.payload, { qos: 1 });
      }
      if (Date.now() >= nextKill) {
        nextKill += killEvery;
        const victim = pick(WORKERS);
        await agents.get(victim)!.kill('SIGKILL');
        kills++;
        await sleep(500);
        await startAgent(victim);
      }
      if (Date.now() >= nextRestart) {
        nextRestart += restartEvery;
        lastRestart = Date.now();
        await broker.kill('SIGTERM');
        stalled.close();
        await sleep(500);
        broker = await spawnBroker(brokerOpts);
        lastRestart = Date.now();
        restarts++;
        stalled = stalledSubscriber(port, `soak-stalled-${nanoid(6)}`);
      }
      await sleep(150);
    }
    await pinger;

    // Settle, then heal: ask each agent to replay what a job of it is missing, once.
    await sleep(5_000);
    const gaps = () => [...jobs].filter(([, j]) => missing(j));
    for (const [id] of gaps()) heal(id);
    const healDeadline = Date.now() + 10_000;
    while (gaps().length && Date.now() < healDeadline) await sleep(200);

    const markerCounts = sent.map((s) => /m-[A-Za-z0-9_-]{10}/.exec(s.payload)?.[0]).filter((m): m is string => !!m);
    const twice = markerCounts.filter((m) => existsSync(join(markers, m)) && readFileSync(join(markers, m), 'utf8').split('\n').filter(Boolean).length > 1).length;
    const ran = markerCounts.filter((m) => existsSync(join(markers, m))).length;
    const answered = sent.filter((s) => jobs.get(s.id)?.end).length;
    const worst = pings.length ? Math.max(...pings) : NaN;
    const base = { runs: sent.length, target: '0' };
    const what = `${(durationMs / 1000).toFixed(0)} s, ${WORKERS.length + 1} agents, ${kills} agent SIGKILLs, ${restarts} broker restarts, a stalled QoS 1 subscriber on conplyent/#`;
    ctx.report.add('soak', { case: 'executions twice (marker file per job id)', figure: twice, unit: 'jobs', ...base, met: twice === 0, note: `${ran} exec jobs ran; ${what}` });
    ctx.report.add('soak', { case: 'lost events (seq gaps never healed by replay)', figure: gaps().length, unit: 'jobs', ...base, met: gaps().length === 0, note: `${answered} of ${sent.length} commands answered; ${healed.size} jobs had a gap that replay was asked to heal${gaps().length ? `; unhealed: ${describeGaps(gaps())}` : ''}` });
    ctx.report.add('soak', { case: 'worst ping to an agent never killed', figure: worst, unit: 'ms', runs: pings.length, note: `${pingTimeouts} timed out (15 s); pings within ${RESTART_SHADOW_MS / 1000} s of a broker restart not counted` });
  } finally {
    stalled.close();
    observer.end(true);
    await sender.endAsync().catch(() => undefined);
    for (const a of agents.values()) await a.kill('SIGTERM');
    await broker.kill('SIGTERM');
  }
}
