// The agent as a process: killed, restarted, closed. Crashes are honest, nothing runs twice,
// presence does not lie. Runs on aedes and on Mosquitto; the agent runs from the built dist/.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brokerKinds, startBrokerKind, type TestBroker } from '../helpers/brokers.js';
import { spawnAgent, type AgentProc } from '../helpers/agent-proc.js';
import { connectWire, result, sleep, type Wire } from '../helpers/wire.js';

describe.each(brokerKinds())('agent lifecycle on %s', (kind) => {
  let broker: TestBroker;
  let wire: Wire;
  let dir: string;
  const procs: AgentProc[] = [];
  const opts = (name: string) => ({ broker: broker.url, name, stateDir: join(dir, name), powerLog: join(dir, `${name}.power`), keepaliveSec: 5 });
  const start = async (name: string) => {
    const p = await spawnAgent(opts(name));
    procs.push(p);
    return p;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cp-life-'));
    broker = await startBrokerKind(kind);
    wire = await connectWire(broker.url);
  });
  afterAll(async () => {
    for (const p of procs) await p.kill();
    await wire?.close();
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('[cp-presence-2] the Last Will marks a SIGKILLed agent offline, retained, with its incarnation', async () => {
    const p = await start('will-1');
    const online = await wire.waitFor((m) => m.topic === 'conplyent/will-1/status' && m.json.online === true);
    await p.kill('SIGKILL');
    const off = await wire.waitFor((m) => m.topic === 'conplyent/will-1/status' && m.json.online === false, 10_000, 'the Last Will');
    expect(off.json).toMatchObject({ reason: 'will', boot: online.json.boot, conn: online.json.conn, since: null });
    const late = await connectWire(broker.url);
    const retained = await late.waitFor((m) => m.topic === 'conplyent/will-1/status');
    expect(retained.json.online).toBe(false);
    await late.close();
  });

  it('[cp-evt-8] a job running when the agent is SIGKILLed is reported lost exactly once and never re-run', async () => {
    const marker = join(dir, 'lost-marker');
    let p = await start('lost-1');
    wire.send('conplyent/lost-1/cmd', { id: 'doomed', cmd: 'exec', args: ['sh', '-c', `echo ran >> ${marker}; sleep 30`] });
    await wire.waitFor((m) => m.topic === 'conplyent/lost-1/job/doomed' && m.json.type === 'accepted');
    for (let i = 0; i < 50 && !existsSync(marker); i++) await sleep(50);
    await p.kill('SIGKILL');
    p = await start('lost-1');
    const lost = await wire.waitFor((m) => m.topic === 'conplyent/lost-1/job/doomed' && m.json.type === 'lost', 10_000, 'the lost event');
    expect(lost.json).toMatchObject({ code: 1 });
    // The crash left `sleep 30` running in its own process group; the new agent ends it (Linux).
    if (process.platform === 'linux') expect(lost.json.message).toContain('process group');
    // Redelivery of the same command after the restart does not run it again.
    wire.send('conplyent/lost-1/cmd', { id: 'doomed', cmd: 'exec', args: ['sh', '-c', `echo ran >> ${marker}`] });
    await wire.waitFor((m) => m.topic === 'conplyent/lost-1/errors' && m.json.job === 'doomed');
    // A second restart does not report it again.
    await p.kill('SIGTERM');
    await start('lost-1');
    await sleep(500);
    expect(wire.jobEvents('lost-1', 'doomed').filter((e) => e.type === 'lost')).toHaveLength(1);
    expect(readFileSync(marker, 'utf8')).toBe('ran\n');
  });

  it('[cp-dedupe-1] a reboot delivered twice, across an agent restart, reboots once', async () => {
    let p = await start('reboot-1');
    const cmd = { id: 'reboot-once', cmd: 'reboot' };
    expect(result(await wire.run('reboot-1', cmd)).code).toBe(0);
    // Wait for the line, not the file: appendFileSync creates the file before it writes, and a
    // SIGKILL in between (seen under load) left it empty.
    const power = join(dir, 'reboot-1.power');
    for (let i = 0; i < 40 && !(existsSync(power) && readFileSync(power, 'utf8').includes('reboot')); i++) await sleep(50);
    await p.kill('SIGKILL');
    p = await start('reboot-1');
    wire.send('conplyent/reboot-1/cmd', cmd);
    await wire.waitFor((m) => m.topic === 'conplyent/reboot-1/errors' && m.json.type === 'duplicate' && m.json.job === 'reboot-once');
    await sleep(1_500);
    expect(readFileSync(join(dir, 'reboot-1.power'), 'utf8')).toBe('reboot\n');
  });

  it('[cp-presence-3] a late Last Will of an old connection never leaves a live host offline', async () => {
    await start('race-1');
    const online = await wire.waitFor((m) => m.topic === 'conplyent/race-1/status' && m.json.online === true);
    // What the broker does when it notices an old connection's death late: publish its Will, retained.
    const stale = { ...online.json, online: false, since: null, reason: 'will', conn: online.json.conn - 1, facts: undefined, commands: [] };
    const n = wire.messages.length;
    wire.client.publish('conplyent/race-1/status', JSON.stringify(stale), { qos: 1, retain: true });
    await wire.waitFor((m) => wire.messages.indexOf(m) > n && m.topic === 'conplyent/race-1/status' && m.json.online === true, 5_000, 'online again');
    const late = await connectWire(broker.url);
    const retained = await late.waitFor((m) => m.topic === 'conplyent/race-1/status');
    expect(retained.json).toMatchObject({ online: true, boot: online.json.boot });
    await late.close();
  });

  it('close_server answers, kills its jobs, goes offline and exits', async () => {
    const p = await start('close-1');
    wire.send('conplyent/close-1/cmd', { id: 'long', cmd: 'exec', args: ['sleep', '30'] });
    await wire.waitFor((m) => m.topic === 'conplyent/close-1/job/long' && m.json.type === 'accepted');
    expect(result(await wire.run('close-1', { cmd: 'close_server' })).code).toBe(0);
    const end = await wire.waitFor((m) => m.topic === 'conplyent/close-1/job/long' && ['result', 'error'].includes(m.json.type));
    expect(end.json.type === 'error' || end.json.signal === 'SIGTERM').toBe(true);
    const off = await wire.waitFor((m) => m.topic === 'conplyent/close-1/status' && m.json.online === false);
    expect(off.json.reason).toBe('close_server');
    expect(await Promise.race([p.exited, sleep(10_000).then(() => 'still running')])).toBe(0);
  });

  it('streams 50 MB of output complete and in order, with sequence numbers and no gaps', async () => {
    const file = join(dir, 'big.bin');
    const data = Buffer.alloc(50 * 1024 * 1024);
    for (let i = 0; i < data.length; i += 4) data.writeUInt32LE((i ^ 0x9e3779b9) >>> 0, i);
    writeFileSync(file, data);
    await start('stream-1');
    const evs = await wire.run('stream-1', { id: 'big', cmd: 'exec', args: ['cat', file] }, 120_000);
    const seqs = evs.map((e) => e.seq);
    expect(seqs).toEqual([...seqs.keys()]);
    const out = evs.filter((e) => e.type === 'output');
    const bytes = Buffer.concat(out.map((e) => Buffer.from(e.data, e.enc === 'base64' ? 'base64' : 'utf8')));
    expect(bytes.length).toBe(data.length);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
    expect(result(evs)).toMatchObject({ code: 0, events: out.length });
  }, 150_000);
});
