// The controller's side of signed commands [cp-sig-*], against real agents that require signatures
// and sign their results, on aedes and Mosquitto: every command the library publishes verifies for
// the topic it went to, and an answer written by anyone but the pinned host is reported forged.
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent, type Agent } from '../../../agent/index.js';
import { connect, get, put, type Fleet, type HostInfo } from '../../../controller/index.js';
import { generateSigningKey, privateKeyPem, publicKeyText, trustedKeys, verifyCommand, type CommandInput } from '../../../protocol/index.js';
import { brokerKinds, startBrokerKind, type TestBroker } from '../../helpers/brokers.js';
import { connectWire, type Wire } from '../../helpers/wire.js';

const HOSTS = ['sig-1', 'sig-2'];

describe.each(brokerKinds())('signed commands from the controller on %s', (kind) => {
  const ops = generateSigningKey();
  let broker: TestBroker;
  let wire: Wire;
  let dir: string;
  let keyFile: string;
  let knownHosts: string;
  const agents: Agent[] = [];
  const fleets: Fleet[] = [];
  const open = async (o: Parameters<typeof connect>[1] = {}) => {
    const f = await connect(broker.controllerUrl, { signingKey: keyFile, knownHosts, ...o });
    fleets.push(f);
    return f;
  };

  beforeAll(async () => {
    dir = realpathSync(mkdtempSync(join(tmpdir(), 'cp-sigctl-')));
    keyFile = join(dir, 'ops.key');
    writeFileSync(keyFile, privateKeyPem(ops.privateKey), { mode: 0o600 });
    knownHosts = join(dir, 'conf', 'known_hosts');
    broker = await startBrokerKind(kind);
    wire = await connectWire(broker.controllerUrl);
    for (const name of HOSTS) {
      const a = createAgent({ broker: broker.url, name, stateDir: join(dir, name), labels: { role: 'sig' }, trustedKeys: [publicKeyText(ops.privateKey)], requireSigned: true });
      await a.start();
      agents.push(a);
    }
  }, 30_000);

  afterAll(async () => {
    for (const f of fleets) await f.close();
    for (const a of agents) await a.stop();
    await wire?.close();
    await broker?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('[cp-sig-3] every command verifies for the exact topic it was published on: per host, fleet, text, kill and replay', async () => {
    const fleet = await open();
    const trusted = trustedKeys([ops.publicKey]);
    const cmds = () => wire.messages.filter((m) => /^conplyent\/[^/]+\/cmd$/.test(m.topic));
    const echoJob = fleet.run(HOSTS, 'exec', ['echo', 'hi']);
    const direct = await echoJob.done();
    expect(direct.map((r) => r.state)).toEqual(['ok', 'ok']);
    const viaFleet = await fleet.run('role=sig', 'ping').done();
    expect(viaFleet.map((r) => r.state)).toEqual(['ok', 'ok']);
    const text = await fleet.runText([HOSTS[0]], 'exec echo "a b"', { cmd: 'exec', args: ['echo', 'a b'] }).done();
    expect(text[0].stdout.toString()).toBe('a b\n');
    const killed = await fleet.kill(HOSTS[1], 'no-such-job');
    expect(killed.state).not.toBe('forged');
    // attach asks the host to replay the job: a command sent on the job's behalf, signed too.
    const [attached] = await fleet.attach(HOSTS[0], echoJob.id, { waitMs: 10_000 }).done();
    expect(attached.stdout.toString()).toBe('hi\n');
    expect(cmds().some((m) => m.json.cmd === 'replay')).toBe(true);
    expect(cmds().length).toBeGreaterThanOrEqual(6);
    for (const m of cmds()) {
      expect(typeof m.json, `${m.topic} carries JSON, never a text line`).toBe('object');
      expect(m.json.sig.kid).toBe(fleet.signingKeyId);
      expect(verifyCommand(m.json as CommandInput, m.topic, trusted), `${m.topic} ${JSON.stringify(m.json).slice(0, 120)}`).toMatchObject({ ok: true });
    }
    // Each host's copy is signed for its own topic: the signature of one does not verify on another.
    const [a, b] = cmds().filter((m) => m.json.id === echoJob.id);
    expect(a.topic).not.toBe(b.topic);
    expect(verifyCommand(a.json, b.topic, trusted)).toMatchObject({ ok: false, error: 'BAD_SIGNATURE' });
    expect(cmds().some((m) => m.topic === 'conplyent/_all/cmd')).toBe(true);
  }, 30_000);

  it('[cp-env-13] a signed text command keeps the out= of its line, as an unsigned one does', async () => {
    const fleet = await open();
    const line = (id: string) => wire.waitFor((m) => m.topic === `conplyent/${HOSTS[0]}/cmd` && m.json?.id === id, 5_000, `the command ${id}`);
    const asJson = fleet.runText([HOSTS[0]], 'out=json exec echo hi', { cmd: 'exec', args: ['echo', 'hi'], out: 'json' });
    expect((await asJson.done())[0].stdout.toString()).toBe('hi\n');
    expect((await line(asJson.id)).json.out).toBeUndefined();
    // The same line without out= asks frames, the connection's default: the check above tells them apart.
    const asRaw = fleet.runText([HOSTS[0]], 'exec echo hi', { cmd: 'exec', args: ['echo', 'hi'] });
    expect((await asRaw.done())[0].stdout.toString()).toBe('hi\n');
    expect((await line(asRaw.id)).json.out).toBe('raw');
  }, 30_000);

  it('[cp-sig-3] put and get chunks are signed too: a file goes both ways to agents that require signatures', async () => {
    const fleet = await open();
    const local = join(dir, 'blob.bin');
    writeFileSync(local, Buffer.alloc(300 * 1024, 7));
    const sent = await put(fleet, HOSTS, local, join(dir, 'remote.bin'));
    expect(sent.map((r) => r.state)).toEqual(['ok', 'ok']);
    const back = await get(fleet, HOSTS[1], join(dir, 'remote.bin'), join(dir, 'back.bin'));
    expect(back.ok).toBe(true);
    expect(readFileSync(join(dir, 'back.bin')).equals(readFileSync(local))).toBe(true);
  }, 30_000);

  it('[cp-sig-7] pins each agent key on first contact in the known-hosts file (0600) and shows it in hosts()', async () => {
    const fleet = await open();
    const info = fleet.hosts().filter((h) => HOSTS.includes(h.name));
    expect(info.map((h) => h.requireSigned)).toEqual([true, true]);
    expect(info.every((h) => h.keyId && !h.keyChanged)).toBe(true);
    expect(statSync(knownHosts).mode & 0o777).toBe(0o600);
    const lines = readFileSync(knownHosts, 'utf8').trim().split('\n');
    expect(lines.map((l) => l.split(' ')[0]).sort()).toEqual(HOSTS);
  });

  it('[cp-sig-8] a result published by another controller credential for a pinned host is reported forged, not success', async () => {
    const fleet = await open();
    const job = fleet.run([HOSTS[0]], 'exec', ['sleep', '2'], { waitMs: 15_000 });
    const accepted = await wire.waitFor((m) => m.topic === `conplyent/${HOSTS[0]}/job/${job.id}` && m.json?.type === 'accepted', 10_000, 'accepted');
    // Someone who may publish (a controller credential, a broker admin) answers in the host's name.
    wire.send(accepted.topic, { v: 1, host: HOSTS[0], job: job.id, seq: 1, ts: Date.now(), type: 'result', code: 0, durationMs: 1, events: 0, signal: null, timedOut: false, killed: false });
    const [r] = await job.done();
    expect(r.state).toBe('forged');
    expect(r.error?.code).toBe('FORGED');
    expect(r.error?.message).toMatch(/not signed by sig-1's pinned key/);
  }, 20_000);

  it('[cp-sig-8] a result signed by another agent key does not vouch for this host', async () => {
    const fleet = await open();
    const other = generateSigningKey();
    const { signEvent } = await import('../../../protocol/index.js');
    const job = fleet.run([HOSTS[1]], 'exec', ['sleep', '2'], { waitMs: 15_000 });
    const accepted = await wire.waitFor((m) => m.topic === `conplyent/${HOSTS[1]}/job/${job.id}` && m.json?.type === 'accepted', 10_000, 'accepted');
    const ev = { v: 1, host: HOSTS[1], job: job.id, seq: 1, ts: Date.now(), type: 'result', code: 0, durationMs: 1, events: 0 };
    wire.send(accepted.topic, signEvent(ev, accepted.topic, other.privateKey));
    const [r] = await job.done();
    expect(r.state).toBe('forged');
  }, 20_000);

  it('[cp-sig-7] a key changed at presence is flagged, not adopted: results are still checked with the pinned key', async () => {
    const pinned = readFileSync(knownHosts, 'utf8');
    const fleet = await open();
    const changes: HostInfo[] = [];
    fleet.on('presence', (c) => c.host.keyChanged && changes.push(c.host));
    const host = fleet.host(HOSTS[0])!;
    const impostor = generateSigningKey();
    const status = { v: 1, host: HOSTS[0], online: true, boot: host.boot, conn: host.conn + 1000, since: Date.now(), startedAt: Date.now(), labels: {}, commands: [], key: publicKeyText(impostor.privateKey) };
    wire.client.publish(`conplyent/${HOSTS[0]}/status`, JSON.stringify(status), { qos: 1 });
    await wire.waitFor((m) => m.topic === `conplyent/${HOSTS[0]}/status` && m.json?.conn === status.conn, 10_000, 'the impostor status');
    for (let i = 0; i < 100 && changes.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(changes[0]?.keyChanged).toMatchObject({ pinnedKeyId: host.keyId, announcedKeyId: expect.any(String) });
    expect(fleet.host(HOSTS[0])!.keyId).toBe(host.keyId);
    expect(readFileSync(knownHosts, 'utf8')).toBe(pinned);
    // The real agent still answers with the pinned key.
    const [r] = await fleet.run([HOSTS[0]], 'ping').done();
    expect(r.state).toBe('ok');
  }, 20_000);

  it('[cp-sig-8] agentKeys given up front win: an agent whose key differs is flagged and its results are forged', async () => {
    const wrong = publicKeyText(generateSigningKey().privateKey);
    const fleet = await open({ knownHosts: undefined, agentKeys: { [HOSTS[1]]: wrong } });
    expect(fleet.host(HOSTS[1])!.keyChanged).toBeDefined();
    const [r] = await fleet.run([HOSTS[1]], 'ping').done();
    expect(r.state).toBe('forged');
    expect(existsSync(knownHosts)).toBe(true);
  }, 20_000);

  it('refuses a public key or a missing key file as the signing key, before connecting', async () => {
    const pub = join(dir, 'ops.pub');
    writeFileSync(pub, publicKeyText(ops.privateKey));
    await expect(connect(broker.controllerUrl, { signingKey: pub })).rejects.toMatchObject({ code: 'BAD_OPTION', message: expect.stringMatching(/public key/) });
    await expect(connect(broker.controllerUrl, { signingKey: join(dir, 'nope.key') })).rejects.toMatchObject({ code: 'BAD_OPTION' });
  });
});
