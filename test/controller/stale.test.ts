// [cp-presence-7] [cp-presence-8] Presence that cannot stay wrong: an agent whose heartbeats stop
// without a Will (here: the process is frozen with SIGSTOP, so its TCP connection stays up, as when
// the broker node that would publish its Will died) is shown stale, is settled at once as offline by
// a command, and becomes fresh again with its next heartbeat.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type Fleet, type PresenceChange } from '../../controller/index.js';
import { spawnAgent, type AgentProc } from '../helpers/agent-proc.js';
import { startAedes, type TestBroker } from '../helpers/brokers.js';
import { until } from '../helpers/until.js';


describe('[cp-presence-8] stale hosts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cp-stale-'));
  let broker: TestBroker;
  let agent: AgentProc;
  let fleet: Fleet;

  beforeAll(async () => {
    broker = await startAedes();
    agent = await spawnAgent({ broker: broker.url, name: 'hb-1', stateDir: join(dir, 'hb-1'), heartbeatSec: 1 });
    fleet = await connect(broker.url);
  });
  afterAll(async () => {
    if (agent?.child.pid) agent.child.kill('SIGCONT');
    await fleet?.close();
    await agent?.kill();
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('[cp-presence-7] the agent republishes its online status with hb and hbSec, same since', async () => {
    await until('hb-1 online', () => fleet.host('hb-1')?.online === true);
    const first = fleet.host('hb-1')!;
    expect(first.hbSec).toBe(1);
    const heard = first.heardAt;
    await until('a heartbeat', () => fleet.host('hb-1')!.heardAt > heard);
    expect(fleet.host('hb-1')!.since).toBe(first.since);
    expect(fleet.host('hb-1')!.stale).toBe(false);
  });

  it('goes stale after 3 missed heartbeats, is settled as offline at once, and is fresh again after the next one', async () => {
    const changes: PresenceChange[] = [];
    fleet.on('presence', (c) => changes.push(c));
    agent.child.kill('SIGSTOP');
    const stoppedAt = Date.now();
    await until('hb-1 stale', () => fleet.host('hb-1')?.stale === true);
    console.log(`hb-1 shown stale ${Date.now() - stoppedAt} ms after its heartbeats stopped (hbSec 1, 3 missed)`);
    expect(changes.some((c) => c.host.name === 'hb-1' && c.host.stale && !c.previous?.stale)).toBe(true);
    expect(fleet.host('hb-1')!.online).toBe(true);

    const [r] = await fleet.run(['hb-1'], 'ping', [], { waitMs: 60_000 }).done();
    expect(r).toMatchObject({ host: 'hb-1', state: 'offline' });
    expect(r!.error?.message).toMatch(/stale/);

    agent.child.kill('SIGCONT');
    await until('hb-1 fresh again', () => fleet.host('hb-1')?.stale === false);
  });
});
