// The controller library asks for the folded instant answer by default, and only of hosts that
// announce they understand it [cp-fold-4]; its JobHandle still hands out the `accepted` [cp-fold-3].
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent, type Agent } from '../../agent/index.js';
import { connect, type Fleet } from '../../controller/index.js';
import { brokerKinds, startBrokerKind, type TestBroker } from '../helpers/brokers.js';
import { connectWire, type Wire } from '../helpers/wire.js';

describe.each(brokerKinds())('controller and folded answers on %s', (kind) => {
  let broker: TestBroker;
  let agent: Agent;
  let fleet: Fleet;
  let wire: Wire;
  const dir = mkdtempSync(join(tmpdir(), 'cp-fold-ctl-'));

  beforeAll(async () => {
    broker = await startBrokerKind(kind);
    wire = await connectWire(broker.controllerUrl);
    // An agent of before folding: online, but its presence lists no features.
    wire.client.publish('conplyent/old-1/status', JSON.stringify({ v: 1, host: 'old-1', online: true, boot: 1, conn: 1, since: Date.now(), startedAt: Date.now(), labels: {}, commands: [] }), { qos: 1, retain: true });
    agent = createAgent({ broker: broker.url, name: 'new-1', stateDir: join(dir, 'new-1') });
    await agent.start();
    fleet = await connect(broker.controllerUrl);
  });
  afterAll(async () => {
    await fleet?.close();
    await agent?.stop();
    wire?.client.publish('conplyent/old-1/status', '', { qos: 1, retain: true });
    await wire?.close();
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The wire client is another connection: its copy of the events may come after the fleet's. */
  const heard = async (host: string, id: string) => {
    await wire.waitFor((m) => m.topic === `conplyent/${host}/job/${id}` && m.json.type === 'result', 5_000, `the result of ${id}`);
    return wire.jobEvents(host, id);
  };
  const sent = (host: string, id: string) => wire.waitFor((m) => m.topic === `conplyent/${host}/cmd` && m.json.id === id, 5_000, `the command ${id}`);

  it('[cp-fold-1] asks for fold by default; the job still shows its accepted, and one event came over the wire', async () => {
    const job = fleet.run('new-1', 'ping', [], { waitMs: 10_000 });
    const types: string[] = [];
    job.on('event', ({ event }) => types.push(event.type));
    const [r] = await job.done();
    expect(r).toMatchObject({ host: 'new-1', state: 'ok', value: { pong: true } });
    expect(types).toEqual(['accepted', 'result']);
    expect((await sent('new-1', job.id)).json.fold).toBe(true);
    expect((await heard('new-1', job.id)).map((e) => [e.type, e.seq])).toEqual([['result', 0]]);
  });

  it('[cp-fold-1] fold: false sends no fold and gets the two events', async () => {
    const job = fleet.run('new-1', 'ping', [], { waitMs: 10_000, fold: false });
    await job.done();
    expect((await sent('new-1', job.id)).json.fold).toBeUndefined();
    expect((await heard('new-1', job.id)).map((e) => e.type)).toEqual(['accepted', 'result']);
  });

  it('[cp-fold-4] never sends fold to a host that does not announce it, alone or beside one that does', async () => {
    const old = fleet.run('old-1', 'ping', [], { waitMs: 300 });
    expect((await sent('old-1', old.id)).json.fold).toBeUndefined();
    await old.done();
    const both = fleet.run(['new-1', 'old-1'], 'ping', [], { waitMs: 300 });
    expect((await sent('new-1', both.id)).json.fold).toBeUndefined();
    await both.done();
  });

  it('[cp-fold-1] a text command gets fold=true in front', async () => {
    const job = fleet.runText('new-1', 'ping', { cmd: 'ping' }, { waitMs: 10_000 });
    const [r] = await job.done();
    expect(r).toMatchObject({ state: 'ok' });
    const m = await wire.waitFor((m) => m.topic === 'conplyent/new-1/cmd' && typeof m.json === 'string' && m.json.includes(`id=${job.id}`), 5_000, 'the text command');
    expect(m.json).toMatch(/(^| )fold=true /);
  });
});
