// Round trip: `ping` to one agent and its result back, beside a raw mqtt.js echo on the same broker.
// Broker, agent, echo client and the measuring side are four processes, as in production. The same
// agent trusts a controller key, so the signed round trip (sign, verify, signed result) runs beside
// the unsigned one in the same blocks.
import { banner } from '../lib/report.js';
import { availableKinds, ENGINE_NAMES, startBench } from '../lib/brokers.js';
import { EchoSender, WireClient, fleetWith } from '../lib/clients.js';
import { p50, p99, timeRuns, within } from '../lib/stats.js';
import { startAgents, startEchoes, stopAll } from '../lib/workers.js';
import { ECHO_PAYLOAD, type Ctx } from './context.js';
import { join } from 'node:path';
import { generateSigningKey, publicKeyText } from '../../protocol/index.js';

/** How long one round trip may take before it counts as lost; more than MAX_LOST of them per engine end the scenario. */
const PING_WAIT_MS = 10_000;
const MAX_LOST = 5;

export async function roundtrip(ctx: Ctx): Promise<void> {
  banner('roundtrip');
  // The clustered engines put agents on node 1 and controllers and echo senders on node 2.
  for (const kind of availableKinds(ctx.report, 'roundtrip')) {
    // Fewer runs on the clusters: a round trip there crosses two nodes, and four engines must fit the share.
    const clustered = kind === 'nats' || kind === 'redis';
    const runs = ctx.quick ? 100 : clustered ? 150 : 500;
    const warmup = ctx.quick ? 20 : clustered ? 30 : 100;
    // A subscription per job costs a JetStream consumer on NATS (~0.5 s): 20 of those say enough.
    const perJobRuns = clustered ? 20 : runs;
    const broker = await startBench(kind);
    const ops = generateSigningKey();
    // An agent with a trusted key verifies every signed command; unsigned ones still run (requireSigned off).
    const agentOptions = { trustedKeys: [publicKeyText(ops.privateKey)] };
    const workers = [...(await startAgents(broker.url, ['rt-1'], join(ctx.tmp, `rt-${kind}`), 1, agentOptions)), ...(await startEchoes(broker.url, 1, 'bench/rt', 1))];
    try {
      // Controllers on controllerUrl: on the NATS cluster every round trip crosses two nodes.
      const fleet = await fleetWith(broker.controllerUrl, 1);
      // The opt-out for very large fleets: one SUBSCRIBE per command (a JetStream consumer on NATS).
      const perJob = await fleetWith(broker.controllerUrl, 1, 60_000, { allJobs: false });
      const signedFleet = await fleetWith(broker.controllerUrl, 1, 60_000, { signingKey: ops.privateKey });
      const wire = await WireClient.open(broker.controllerUrl, 'rt-1');
      const echo = await EchoSender.open(broker.controllerUrl, 'bench/rt');
      // Interleaved in blocks so drifting machine load hits all three alike.
      const ctl: number[] = [];
      const ctlAll: number[] = [];
      const ctlSigned: number[] = [];
      const lean: number[] = [];
      const leanFolded: number[] = [];
      const raw: number[] = [];
      const block = 50;
      // Each ping bounded: a message a cluster loses (a JetStream leader re-elected under load) is
      // counted and reported beside the figure, instead of stalling the scenario until its cut-off.
      const lostBy = new Map<string, number>();
      let lastLost = '';
      const lose = (what: string) => (e: Error) => {
        lostBy.set(what, (lostBy.get(what) ?? 0) + 1);
        lastLost = e.message;
      };
      const lostCount = () => [...lostBy.values()].reduce((a, b) => a + b, 0);
      const ping = { waitMs: PING_WAIT_MS };
      const round = () => within(echo.round(1, ECHO_PAYLOAD), PING_WAIT_MS, `raw echo on ${kind}`);
      for (let done = 0; done < runs; done += block) {
        const w = done === 0 ? warmup : 0;
        raw.push(...(await timeRuns(block, w, round, lose('raw echo'))));
        ctl.push(...(await timeRuns(block, w, () => fleet.run('rt-1', 'ping', [], ping).done().then(okOrThrow), lose('controller'))));
        if (ctlAll.length < perJobRuns) ctlAll.push(...(await timeRuns(Math.min(block, perJobRuns - ctlAll.length), clustered ? Math.min(w, 5) : w, () => perJob.run('rt-1', 'ping', [], ping).done().then(okOrThrow), lose('controller, allJobs false'))));
        ctlSigned.push(...(await timeRuns(block, w, () => signedFleet.run('rt-1', 'ping', [], ping).done().then(okOrThrow), lose('controller, signed'))));
        lean.push(...(await timeRuns(block, w, () => wire.run('rt-1', 'ping'), lose('wire client'))));
        leanFolded.push(...(await timeRuns(block, w, () => wire.run('rt-1', 'ping', [], true), lose('wire client, fold'))));
        if (lostCount() > MAX_LOST) throw new Error(`${lostCount()} round trips on ${kind} had no answer within ${PING_WAIT_MS} ms; the last: ${lastLost}`);
      }
      const lostNote = lostCount() > 0 ? `on this engine ${[...lostBy].map(([k, n]) => `${n} by the ${k}`).join(', ')} had no answer within ${PING_WAIT_MS} ms, left out (last: ${lastLost})` : undefined;
      const base = { baselineName: 'raw mqtt.js echo (QoS 1)', unit: 'ms', runs: ctl.length, note: lostNote };
      const under2 = (v: number) => [`p50 < 2 ms: ${v < 2 ? 'met' : 'missed'}`, lostNote].filter(Boolean).join('; ');
      ctx.report.add('roundtrip', { case: `${ENGINE_NAMES[kind]} p50, controller library (standing subscription)`, figure: p50(ctl), baseline: p50(raw), ...base, target: '≤ 1.5× raw and < 2 ms', met: p50(ctl) <= 1.5 * p50(raw) && p50(ctl) < 2, note: under2(p50(ctl)) });
      ctx.report.add('roundtrip', { case: `${ENGINE_NAMES[kind]} p99, controller library (standing subscription)`, figure: p99(ctl), baseline: p99(raw), ...base });
      // Both controllers verify the agent's signed result with its pinned key; only the command differs.
      const signedBase = { baselineName: 'controller library, unsigned command', unit: 'ms', runs: ctlSigned.length, note: lostNote };
      ctx.report.add('roundtrip', { case: `${ENGINE_NAMES[kind]} p50, controller library, signed command`, figure: p50(ctlSigned), baseline: p50(ctl), ...signedBase, target: '≤ 1.15× unsigned', met: p50(ctlSigned) <= 1.15 * p50(ctl) });
      ctx.report.add('roundtrip', { case: `${ENGINE_NAMES[kind]} p99, controller library, signed command`, figure: p99(ctlSigned), baseline: p99(ctl), ...signedBase });
      ctx.report.add('roundtrip', { case: `${ENGINE_NAMES[kind]} p50, controller library, a subscription per job (allJobs false)`, figure: p50(ctlAll), baseline: p50(raw), ...base, runs: ctlAll.length });
      ctx.report.add('roundtrip', { case: `${ENGINE_NAMES[kind]} p99, controller library, a subscription per job (allJobs false)`, figure: p99(ctlAll), baseline: p99(raw), ...base, runs: ctlAll.length });
      ctx.report.add('roundtrip', { case: `${ENGINE_NAMES[kind]} p50, wire client (pre-subscribed)`, figure: p50(lean), baseline: p50(raw), ...base, target: '≤ 1.5× raw and < 2 ms', met: p50(lean) <= 1.5 * p50(raw) && p50(lean) < 2, note: under2(p50(lean)) });
      ctx.report.add('roundtrip', { case: `${ENGINE_NAMES[kind]} p99, wire client (pre-subscribed)`, figure: p99(lean), baseline: p99(raw), ...base });
      // The same with `fold` [cp-fold-1]: one event back, as the raw echo sends one message back.
      ctx.report.add('roundtrip', { case: `${ENGINE_NAMES[kind]} p50, wire client (pre-subscribed, fold)`, figure: p50(leanFolded), baseline: p50(raw), ...base, target: '≤ 1.2× raw', met: p50(leanFolded) <= 1.2 * p50(raw) });
      ctx.report.add('roundtrip', { case: `${ENGINE_NAMES[kind]} p99, wire client (pre-subscribed, fold)`, figure: p99(leanFolded), baseline: p99(raw), ...base });
      await Promise.all([fleet.close(), perJob.close(), signedFleet.close(), wire.close(), echo.close()]);
    } finally {
      await stopAll(workers);
      await broker.stop();
    }
  }
}

function okOrThrow(results: { state: string; host: string }[]): void {
  const bad = results.find((r) => r.state !== 'ok');
  if (bad || results.length === 0) throw new Error(`ping did not succeed: ${JSON.stringify(results)}`);
}
