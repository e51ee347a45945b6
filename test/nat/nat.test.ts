// A real NAT: the agent runs in its own network namespace behind an iptables MASQUERADE
// router; the broker listens in the root namespace on the lab's veth address only. Mid-session the
// NAT's mapping dies (conntrack entry deleted, the old flow dropped both ways, as an expired NAT
// does). The agent notices by its keepalive, dials out again, and is back under control, with no
// connection ever made into its namespace (its INPUT drops everything but replies).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type RunningBroker } from '../../broker/index.js';
import { createNatLab, natUnavailable, type NatLab } from '../helpers/netns.js';
import { connectWire, result, sleep, type Wire } from '../helpers/wire.js';

const MAIN = fileURLToPath(new URL('../fixtures/agent-main.mjs', import.meta.url));
const KEEPALIVE_SEC = 2;

const unavailable = natUnavailable();
if (unavailable && process.env.CI === 'true') throw new Error(`NAT test cannot run in CI: ${unavailable}`);
if (unavailable) console.log(`NAT test skipped: ${unavailable}`);

describe.skipIf(Boolean(unavailable))('an agent behind a real NAT', () => {
  let lab: NatLab | undefined;
  let broker: RunningBroker | undefined;
  let wire: Wire | undefined;
  let agent: ChildProcess | undefined;
  let dir: string;
  let output = '';
  const cleanup = () => lab?.destroy();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cp-nat-'));
    process.once('exit', cleanup); // even if afterAll never runs
    lab = createNatLab(String(process.pid));
    broker = await startBroker({ host: lab.brokerAddr, port: 0, allowUnauthenticated: true });
    wire = await connectWire(broker.url);
    const opts = { broker: broker.url, name: 'nat-1', stateDir: join(dir, 'nat-1'), powerLog: join(dir, 'power'), keepaliveSec: KEEPALIVE_SEC, reconnectMinMs: 100, reconnectMaxMs: 1_000 };
    // `ip netns exec` execs the command: the child's pid is the agent's.
    agent = spawn('ip', ['netns', 'exec', lab.agentNs, process.execPath, MAIN, JSON.stringify(opts)], { stdio: ['ignore', 'pipe', 'pipe'] });
    agent.stdout!.on('data', (d) => (output += d));
    agent.stderr!.on('data', (d) => (output += d));
    await wire.waitFor((m) => m.topic === 'conplyent/nat-1/status' && m.json.online === true, 15_000, `the agent online through the NAT (${output})`);
  }, 30_000);

  afterAll(async () => {
    if (agent && agent.exitCode === null) {
      const exited = new Promise((r) => agent!.once('exit', r));
      agent.kill('SIGKILL');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
    }
    await wire?.close();
    await broker?.close();
    cleanup();
    process.removeListener('exit', cleanup);
    rmSync(dir, { recursive: true, force: true });
  });

  it('recovers from an expired NAT mapping by dialing out again, and runs a command sent after recovery', async () => {
    const port = broker!.port;
    const before = wire!.messages.filter((m) => m.topic === 'conplyent/nat-1/status' && m.json.online).at(-1)!.json;
    const [oldFlow] = lab!.agentFlows(port);
    expect(oldFlow).toBeGreaterThan(0);

    const n = wire!.messages.length;
    const expiredAt = Date.now();
    const deleted = lab!.expireMapping(oldFlow, port);
    const back = await wire!.waitFor(
      (m) => wire!.messages.indexOf(m) >= n && m.topic === 'conplyent/nat-1/status' && m.json.online === true && m.json.conn > before.conn,
      6 * KEEPALIVE_SEC * 1000 + 10_000,
      'the agent online again on a new connection',
    );
    const recoveredMs = Date.now() - expiredAt;

    const evs = await wire!.run('nat-1', { cmd: 'exec', args: ['echo', 'through the NAT'] }, 10_000);
    // The connection that carried it: a new flow, which the broker sees from the router's outer
    // address, never the agent's (it went through the NAT).
    const clients = (broker!.aedes as unknown as { clients: Record<string, { conn: { remoteAddress?: string } }> }).clients;
    const seenFrom = () => clients['nat-1']?.conn.remoteAddress?.replace('::ffff:', '');
    let flows: number[] = [];
    for (let i = 0; i < 100 && (flows = lab!.agentFlows(port)).length === 0; i++) await sleep(50);
    const out = evs.filter((e) => e.type === 'output').map((e) => e.data).join('');
    console.log(
      `[nat] mapping expired: conntrack said "${deleted.split('\n')[0]}"; old flow :${oldFlow} -> new flows :${flows.join(',')}; ` +
        `online again after ${recoveredMs} ms (keepalive ${KEEPALIVE_SEC * 1000} ms); incarnation ${before.conn} -> ${back.json.conn}; broker sees the agent at ${seenFrom()}`,
    );
    expect(seenFrom()).toBe(lab!.natAddr);
    expect(back.json.boot).toBe(before.boot);
    expect(flows).not.toContain(oldFlow);
    expect(result(evs)).toMatchObject({ type: 'result', code: 0 });
    expect(out).toBe('through the NAT\n');
  }, 40_000);
});
