// Scenario 1 of issue 8: the agent's link goes silent (an expired NAT mapping) for 3x its keepalive
// while a job streams 10,000 numbered lines. The agent notices by its keepalive, spools, reconnects
// after the heal and delivers every line once, in order, with one terminal event.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from '../../agent/index.js';
import { brokerKinds, startBrokerKind, type TestBroker } from '../helpers/brokers.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { connectWire, sleep, type Wire } from '../helpers/wire.js';
import { KEEPALIVE_SEC, checkStream, countLines, figures, nextEvent, testAgent } from './scenario.js';

const LINES = 10_000;

describe.each(brokerKinds())('blackholed agent link on %s', (kind) => {
  let broker: TestBroker;
  let proxy: FaultProxy;
  let wire: Wire;
  let agent: Agent;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cp-bh-'));
    broker = await startBrokerKind(kind);
    proxy = await startFaultProxy(broker.port);
    wire = await connectWire(broker.url);
    agent = testAgent({ broker: proxy.url, name: 'bh-1', stateDir: join(dir, 'bh-1') });
    await agent.start();
  });
  afterAll(async () => {
    await agent?.stop();
    await wire?.close();
    await proxy?.close();
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a blackhole of 3x keepalive mid-stream loses no line, repeats none, and ends with one terminal event', async () => {
    const id = 'bh-job';
    const topic = `conplyent/bh-1/job/${id}`;
    // About 2.5 s of output: the job outlives the start of the blackhole and ends inside it.
    wire.send('conplyent/bh-1/cmd', { id, cmd: 'count', args: [LINES, 50, 12] });
    await wire.waitFor((m) => m.topic === topic && m.json.type === 'output' && m.json.seq > 300, 10_000, 'the first lines');

    const offline = nextEvent(agent, 'offline', KEEPALIVE_SEC * 5_000);
    const holeAt = Date.now();
    proxy.blackhole();
    const noticedAt = await offline;
    await sleep(Math.max(0, holeAt + 3 * KEEPALIVE_SEC * 1000 - Date.now()));
    // Nothing crossed the dead link: the receiver has no terminal event yet.
    expect(wire.jobEvents('bh-1', id).some((e) => ['result', 'error', 'lost'].includes(e.type))).toBe(false);

    const online = nextEvent(agent, 'online', 15_000);
    const healAt = Date.now();
    proxy.heal();
    const onlineAt = await online;
    await wire.waitFor((m) => m.topic === topic && m.json.type === 'result', 20_000, 'the result');
    const completeAt = Date.now();
    await sleep(300); // anything still in flight (a duplicate, a second terminal) would show now

    const s = checkStream(wire.jobEvents('bh-1', id));
    const lines = countLines(s.stdout, LINES);
    figures(`blackhole/${kind}`, {
      linesLost: lines.lost,
      linesTwice: lines.twice,
      missingSeqs: s.missingSeqs,
      terminals: s.terminals,
      wireDuplicates: s.duplicates,
      deadLinkNoticedMs: noticedAt - holeAt,
      keepaliveMs: KEEPALIVE_SEC * 1000,
      reconnectAfterHealMs: onlineAt - healAt,
      completeAfterHealMs: completeAt - healAt,
    });
    expect(lines).toEqual({ lost: 0, twice: 0, inOrder: true });
    expect(s.missingSeqs).toBe(0);
    expect(s.gaps).toEqual([]);
    expect(s.terminals).toBe(1);
    // The dead link was noticed by the keepalive, during the blackhole, not by the heal.
    expect(noticedAt).toBeLessThan(healAt);
  }, 40_000);
});
