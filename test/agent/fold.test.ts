// The folded instant answer as any MQTT client sees it, knowing only topics.md [cp-fold-*]: a
// command with "fold":true that ends at once gets one terminal event (seq 0) carrying its
// `accepted`; everything else keeps today's events. Runs on aedes and on Mosquitto.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent, CommandError, type Agent } from '../../agent/index.js';
import { parsePublicKey, topics, verifyEvent } from '../../protocol/index.js';
import { brokerKinds, startBrokerKind, type TestBroker } from '../helpers/brokers.js';
import { connectWire, sleep, type Wire } from '../helpers/wire.js';

describe.each(brokerKinds())('folded instant answer on %s', (kind) => {
  let broker: TestBroker;
  let wire: Wire;
  let agent: Agent;
  const dir = mkdtempSync(join(tmpdir(), 'cp-fold-'));

  beforeAll(async () => {
    broker = await startBrokerKind(kind);
    wire = await connectWire(broker.controllerUrl);
    agent = createAgent({ broker: broker.url, name: 'fold-1', stateDir: join(dir, 'fold-1'), keepaliveSec: 5 });
    // Throws before its first await: the job ends in the tick it was accepted, on any machine.
    agent.registerCommand('boom', () => {
      throw new CommandError('PATH', '/nope: no such file or directory (ENOENT)');
    });
    await agent.start();
  });

  afterAll(async () => {
    await agent?.stop();
    await wire?.close();
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Every event of the job, after a pause long enough for a second event to have arrived. */
  async function settled(job: string): Promise<any[]> {
    await sleep(300);
    return wire.jobEvents('fold-1', job);
  }

  it('[cp-fold-4] the agent lists fold among the features of its online presence', async () => {
    const m = await wire.waitFor((m) => m.topic === 'conplyent/fold-1/status' && m.json.online === true);
    expect(m.json.features).toContain('fold');
  });

  it('[cp-fold-2] a folded ping is one result, seq 0, carrying what accepted says', async () => {
    const evs = await wire.run('fold-1', { id: 'f1', cmd: 'ping', fold: true, from: 'ops' });
    expect(evs).toHaveLength(1);
    expect(evs[0]).toMatchObject({
      type: 'result',
      seq: 0,
      code: 0,
      events: 0,
      value: { pong: true, host: 'fold-1' },
      accepted: { cmd: 'ping', args: [], kind: 'foreground', from: 'ops', boot: expect.any(Number) },
    });
    expect(await settled('f1')).toHaveLength(1);
  });

  it('[cp-fold-1] fold=true works in a text command too', async () => {
    const evs = await wire.run('fold-1', 'id=f-text fold=true ping');
    expect(evs.map((e) => [e.type, e.seq, e.accepted?.cmd])).toEqual([['result', 0, 'ping']]);
  });

  it('[cp-fold-2] a job that does not end at once gets accepted first, then the rest, unfolded', async () => {
    const evs = await wire.run('fold-1', { id: 'f-slow', cmd: 'exec', args: ['sh', '-c', 'sleep 0.2; echo done'], fold: true });
    expect(evs.map((e) => e.type)).toEqual(['accepted', 'output', 'result']);
    expect(evs.map((e) => e.seq)).toEqual([0, 1, 2]);
    expect(evs[0]).toMatchObject({ cmd: 'exec', kind: 'background' });
    expect(evs[2].accepted).toBeUndefined();
    expect(evs[2].events).toBe(1);
  });

  it('[cp-fold-2] output never overtakes a held accepted', async () => {
    const evs = await wire.run('fold-1', { id: 'f-out', cmd: 'exec', args: ['echo', 'hi'], fold: true });
    expect(evs.map((e) => e.type)).toEqual(['accepted', 'output', 'result']);
    expect(evs[2]).toMatchObject({ events: 1 });
  });

  it('[cp-fold-2] [cp-env-13] with out=raw too, the accepted goes out before the first output frame', async () => {
    const evs = await wire.run('fold-1', { id: 'f-raw', cmd: 'exec', args: ['echo', 'hi'], fold: true, out: 'raw' });
    expect(evs[0]).toMatchObject({ type: 'accepted', seq: 0, cmd: 'exec' });
    expect(evs.at(-1)).toMatchObject({ type: 'result', events: 1 });
    expect(evs.at(-1).accepted).toBeUndefined();
    expect(evs).toHaveLength(3); // the frame in between is binary, not a JSON event
  });

  it('[cp-fold-2] an error while running folds; a refusal stays one error without accepted [cp-evt-2]', async () => {
    const ran = await wire.run('fold-1', { id: 'f-err', cmd: 'boom', fold: true });
    expect(ran).toHaveLength(1);
    expect(ran[0]).toMatchObject({ type: 'error', seq: 0, error: 'PATH', code: 1, accepted: { cmd: 'boom', kind: 'foreground' } });
    const refused = await wire.run('fold-1', { id: 'f-unknown', cmd: 'frobnicate', fold: true });
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ type: 'error', seq: 0, error: 'UNKNOWN_COMMAND' });
    expect(refused[0].accepted).toBeUndefined();
  });

  it('[cp-fold-3] [cp-sig-8] the folded terminal is signed, its accepted member included', async () => {
    const status = await wire.waitFor((m) => m.topic === 'conplyent/fold-1/status' && m.json.online === true);
    const key = parsePublicKey(status.json.key);
    const [ev] = await wire.run('fold-1', { id: 'f-sig', cmd: 'ping', fold: true });
    const topic = topics.job('fold-1', 'f-sig');
    expect(verifyEvent(ev, topic, key)).toMatchObject({ ok: true });
    expect(verifyEvent({ ...ev, accepted: { ...ev.accepted, cmd: 'exec' } }, topic, key)).toMatchObject({ ok: false, error: 'BAD_SIGNATURE' });
  });

  it('[cp-fold-3] [cp-replay-1] replay of a folded job republishes the same one event', async () => {
    const [first] = await wire.run('fold-1', { id: 'f-rep', cmd: 'ping', fold: true });
    const rep = await wire.run('fold-1', { id: 'f-rep-replay', cmd: 'replay', args: ['f-rep', 0] });
    expect(rep.at(-1)).toMatchObject({ type: 'result', value: { replayed: 1, firstAvailable: 0 } });
    await wire.waitFor((m) => m.topic === 'conplyent/fold-1/job/f-rep' && wire.jobEvents('fold-1', 'f-rep').length === 2, 5_000, 'the replayed copy');
    const both = wire.jobEvents('fold-1', 'f-rep');
    expect(both).toEqual([first, first]);
  });

  it('[cp-fold-3] [cp-dedupe-1] a duplicate id gets a duplicate notice, never a second answer', async () => {
    await wire.run('fold-1', { id: 'f-dup', cmd: 'ping', fold: true });
    wire.send('conplyent/fold-1/cmd', { id: 'f-dup', cmd: 'ping', fold: true });
    await wire.waitFor((m) => m.topic === 'conplyent/fold-1/errors' && m.json.type === 'duplicate' && m.json.job === 'f-dup');
    expect(await settled('f-dup')).toHaveLength(1);
  });

  it('[cp-fold-1] without fold the events are exactly as before: accepted, then result', async () => {
    const evs = await wire.run('fold-1', { id: 'f-none', cmd: 'ping' });
    expect(evs.map((e) => [e.type, e.seq])).toEqual([
      ['accepted', 0],
      ['result', 1],
    ]);
    expect(evs[1].accepted).toBeUndefined();
    const off = await wire.run('fold-1', { id: 'f-false', cmd: 'ping', fold: false });
    expect(off.map((e) => e.type)).toEqual(['accepted', 'result']);
  });

  it('[cp-env-10] fold must be a boolean', async () => {
    const evs = await wire.run('fold-1', { id: 'f-bad', cmd: 'ping', fold: 'yes' });
    expect(evs).toEqual([expect.objectContaining({ type: 'error', error: 'BAD_ENVELOPE', seq: 0 })]);
  });
});
