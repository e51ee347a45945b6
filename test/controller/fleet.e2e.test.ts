// The controller library against a real broker and real agents: presence, run, attach, and a
// controller connection that drops mid-job. On the clusters the agents sit on one node and every
// controller on another, so each command and event crosses the cluster.
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type Fleet, type HostInfo, type PresenceChange } from '../../controller/index.js';
import { clusterKinds, startBrokerKind, type TestBroker } from '../helpers/brokers.js';
import { startFleet, type TestFleet } from '../helpers/fleet.js';

const HOSTS = ['lib-1', 'lib-2', 'lib-3'];
const numbers = (n: number) => Array.from({ length: n }, (_, i) => `${i + 1}\n`).join('');

describe.each(clusterKinds())('controller library on %s', (kind) => {
  let broker: TestBroker;
  let agents: TestFleet;
  let fleet: Fleet;

  beforeAll(async () => {
    broker = await startBrokerKind(kind);
    agents = await startFleet(broker.url, HOSTS.map((name, i) => ({ name, labels: { tier: i === 0 ? 'front' : 'back' } })));
    fleet = await connect(broker.controllerUrl);
  }, 60_000);

  afterAll(async () => {
    await fleet?.close();
    await agents?.close();
    await broker?.stop();
  }, 30_000);

  it('connect resolves with the retained presence of every host: labels, facts, commands', () => {
    const hosts = fleet.hosts();
    expect(hosts.map((h) => h.name)).toEqual(HOSTS);
    const h = fleet.host('lib-1')!;
    expect(h).toMatchObject({ online: true, labels: { tier: 'front' } });
    expect(h.facts?.platform).toBe(process.platform);
    expect(h.commands.map((c) => c.name)).toContain('exec');
    expect(h.commands.map((c) => c.name)).toContain('count');
  });

  it('run yields one result per expected host with its output, code and duration', async () => {
    const job = fleet.run('tier=back', 'exec', ['sh', '-c', 'echo out; echo err >&2; exit 4']);
    expect(job.expected).toEqual(['lib-2', 'lib-3']);
    const results = await job.done();
    expect(results.map((r) => r.host).sort()).toEqual(['lib-2', 'lib-3']);
    for (const r of results) {
      expect(r).toMatchObject({ state: 'failed', code: 4 });
      expect(r.stdout.toString()).toBe('out\n');
      expect(r.stderr.toString()).toBe('err\n');
      expect(r.durationMs).toBeGreaterThanOrEqual(0);
    }
  });

  it('the job handle is an async iterable of events and one final per host', async () => {
    const job = fleet.run(['lib-1'], 'count', [3]);
    const kinds: string[] = [];
    let text = '';
    for await (const { host, event } of job) {
      expect(host).toBe('lib-1');
      kinds.push(event.type === 'final' ? `final:${event.state}` : event.type);
      if (event.type === 'output') text += Buffer.from(event.data, event.enc ?? 'utf8').toString();
    }
    expect(kinds).toEqual(['accepted', 'output', 'output', 'output', 'result', 'final:ok']);
    expect(text).toBe(numbers(3));
  });

  it('a command over the size limit or with a bad target throws at once, before anything is sent', () => {
    expect(() => fleet.run('lib-1', 'wrfile', ['x', 'a'.repeat(600 * 1024)])).toThrow(/limit is 524288/);
    expect(() => fleet.run('lib/1', 'ping')).toThrow(/bad target/);
  });

  it('close() settles unfinished jobs instead of leaving done() pending', async () => {
    const other = await connect(broker.controllerUrl);
    const job = other.run('lib-1', 'exec', ['sleep', '5']);
    await new Promise((r) => job.once('event', r));
    await other.close();
    const [r] = await job.done();
    // It had started on the host and goes on there: running, not no-answer.
    expect(r!.state).toBe('running');
    expect(r!.error?.message).toMatch(/controller closed/);
  });

  it('job.input() writes to every host of the job and job.kill() ends it everywhere', async () => {
    const reader = fleet.run(['lib-1', 'lib-2'], 'exec', ['sh', '-c', 'read l; echo "got $l"'], { timeoutMs: 10_000 });
    let accepted = 0;
    await new Promise<void>((r) => reader.on('event', ({ event }) => event.type === 'accepted' && ++accepted === 2 && r()));
    const sent = await reader.input('hi\n');
    expect(sent.map((x) => x.state)).toEqual(['ok', 'ok']);
    for (const r of await reader.done()) expect(r.stdout.toString()).toBe('got hi\n');

    const sleeper = fleet.run(['lib-1', 'lib-2'], 'exec', ['sleep', '30'], { timeoutMs: 60_000 });
    accepted = 0;
    await new Promise<void>((r) => sleeper.on('event', ({ event }) => event.type === 'accepted' && ++accepted === 2 && r()));
    await sleeper.kill();
    const killed = await sleeper.done();
    expect(killed).toHaveLength(2);
    for (const r of killed) expect(r.state).not.toBe('ok');
  });

  it('a target that matches nothing resolves done() with [] and says noMatch', async () => {
    const job = fleet.run('nope-*', 'ping');
    expect(job.noMatch).toBe(true);
    expect(await job.done()).toEqual([]);
  });

  it('a controller whose connection drops mid-job still gets exactly one complete result per host', async () => {
    const job = fleet.run(HOSTS, 'count', [300, 5]);
    await job.started;
    await new Promise((r) => setTimeout(r, 300));
    // Cut our socket: mqtt.js reconnects with the same client id and persistent session.
    fleet.client.stream.destroy();
    const results = await job.done();
    expect(results.map((r) => r.host).sort()).toEqual(HOSTS);
    for (const r of results) {
      expect(r.state).toBe('ok');
      expect(r.gap).toBeUndefined();
      expect(r.stdout.toString()).toBe(numbers(300));
    }
    // Replays across a cluster's nodes took up to 26 s on a loaded 2-core runner.
  }, 60_000);

  it('attach follows a job another controller started, from its first line', async () => {
    const other = await connect(broker.controllerUrl);
    try {
      const job = other.run('lib-2', 'count', [50, 10]);
      await job.started;
      await new Promise((r) => setTimeout(r, 200));
      const [r] = await fleet.attach('lib-2', job.id).done();
      expect(r!.state).toBe('ok');
      expect(r!.stdout.toString()).toBe(numbers(50));
      await job.done();
    } finally {
      await other.close();
    }
  });

  it('a replay request expires with its wait, so requests a host never answered do not all replay when it comes back', async () => {
    const wire = await mqtt.connectAsync(broker.controllerUrl, { protocolVersion: 4, reconnectPeriod: 0 });
    try {
      const seen = new Promise<Record<string, unknown>>((resolve) =>
        wire.on('message', (_t, p) => {
          const m = JSON.parse(p.toString()) as Record<string, unknown>;
          if (m.cmd === 'replay') resolve(m);
        }),
      );
      await wire.subscribeAsync('conplyent/lib-2/cmd', { qos: 1 });
      const r = await fleet.replay('lib-2', 'no-such-job', 0);
      expect(r.error?.code).toBe('UNKNOWN_JOB');
      expect(await seen).toMatchObject({ cmd: 'replay', ttlMs: 10_000, sentAt: expect.any(Number) });
    } finally {
      await wire.endAsync();
    }
  });

  it('attach to a job the host does not know settles with UNKNOWN_JOB instead of hanging', async () => {
    const [r] = await fleet.attach('lib-3', 'no-such-job', { waitMs: 10_000 }).done();
    expect(r!.state).toBe('rejected');
    expect(r!.error?.code).toBe('UNKNOWN_JOB');
  });

  it('close() leaves no session behind on the broker to queue messages for a controller that is gone', async () => {
    const short = await connect(broker.controllerUrl);
    const id = short.clientId;
    await short.close();
    const probe = await mqtt.connectAsync(broker.controllerUrl, { protocolVersion: 4, clean: false, clientId: id, reconnectPeriod: 0 });
    try {
      // sessionPresent false: the broker kept nothing for this id.
      expect((probe as any).connackPacket?.sessionPresent).toBe(false);
    } finally {
      await probe.endAsync();
      await mqtt.connectAsync(broker.controllerUrl, { protocolVersion: 4, clean: true, clientId: id, reconnectPeriod: 0 }).then((c) => c.endAsync());
    }
    // keepSession keeps it, for a controller with a fixed id that wants what was queued meanwhile.
    const kept = await connect(broker.controllerUrl, { clientId: `ctl-kept-${kind}`, keepSession: true });
    await kept.close();
    const probe2 = await mqtt.connectAsync(broker.controllerUrl, { protocolVersion: 4, clean: false, clientId: `ctl-kept-${kind}`, reconnectPeriod: 0 });
    expect((probe2 as any).connackPacket?.sessionPresent).toBe(true);
    await probe2.endAsync();
    await mqtt.connectAsync(broker.controllerUrl, { protocolVersion: 4, clean: true, clientId: `ctl-kept-${kind}`, reconnectPeriod: 0 }).then((c) => c.endAsync());
  });

  it('a late Last Will of an older connection does not mark the host offline [cp-presence-3]', async () => {
    const h = fleet.host('lib-1')!;
    const wire = await mqtt.connectAsync(broker.controllerUrl, { protocolVersion: 4, reconnectPeriod: 0 });
    const status = (online: boolean, conn: number) =>
      JSON.stringify({ v: 1, host: 'lib-1', online, boot: h.boot, conn, since: online ? h.since : null, startedAt: 1, labels: h.labels, facts: h.facts, commands: h.commands, ...(online ? {} : { reason: 'will' }) });
    try {
      expect(h.conn).toBeGreaterThan(0);
      await wire.publishAsync('conplyent/lib-1/status', status(false, h.conn - 1), { qos: 1, retain: true });
      await new Promise((r) => setTimeout(r, 300));
      expect(fleet.host('lib-1')?.online).toBe(true);
      const [r] = await fleet.run('lib-1', 'ping', [], { timeoutMs: 5000 }).done();
      expect(r!.state).toBe('ok');
    } finally {
      // Put the agent's own status back for later connections.
      await wire.publishAsync('conplyent/lib-1/status', status(true, h.conn), { qos: 1, retain: true });
      await wire.endAsync();
    }
  });

  it('presence events report a host going offline and coming back', { timeout: 60_000 }, async () => {
    const seen: string[] = [];
    const onPresence = (c: PresenceChange) => c.host.name === 'lib-3' && seen.push(c.host.online ? 'online' : 'offline');
    fleet.on('presence', onPresence);
    try {
      await agents.stopAgent('lib-3');
      const until = Date.now() + 10_000;
      while (fleet.host('lib-3')?.online && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      const offline = await fleet.run('lib-3', 'ping', [], { ttlMs: 1000, waitMs: 5000 }).done();
      expect(offline[0]!.state).toBe('offline');
      await agents.startAgent('lib-3');
      // Bounded generously: on a cluster under a full CI run the status crosses two loaded brokers.
      const deadline = Date.now() + 20_000;
      while (!fleet.host('lib-3')?.online && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      // An agent may refresh its status (facts after start): compare the state changes only.
      const { facts: _f, commands: _c, ...view } = fleet.host('lib-3') ?? ({} as Partial<HostInfo>);
      expect(seen.filter((s, i) => s !== seen[i - 1]), `lib-3 as the controller sees it: ${JSON.stringify(view)}`).toEqual(['offline', 'online']);
      const [back] = await fleet.run('lib-3', 'ping', [], { timeoutMs: 5000 }).done();
      expect(back!.state).toBe('ok');
    } finally {
      fleet.off('presence', onPresence);
    }
  });
});
