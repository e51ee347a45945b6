// connect() waits for retained statuses to stop arriving (MQTT never says they are all delivered);
// a controller that names its hosts (`exec web-1 -- true`) stops waiting once it has heard of them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { namedHosts } from '../../controller/targets.js';
import { connect, type Fleet } from '../../controller/index.js';
import { spawnAgent, type AgentProc } from '../helpers/agent-proc.js';
import { startAedes, type TestBroker } from '../helpers/brokers.js';

describe('connect() with awaitHosts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cp-await-'));
  let broker: TestBroker;
  let agent: AgentProc;
  const fleets: Fleet[] = [];

  beforeAll(async () => {
    broker = await startAedes();
    agent = await spawnAgent({ broker: broker.url, name: 'aw-1', stateDir: join(dir, 'aw-1') });
  });
  afterAll(async () => {
    for (const f of fleets) await f.close();
    await agent?.kill();
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('returns once every named host has a status, without waiting out the settle window', async () => {
    // A settle window far longer than the 3 s cap: without awaitHosts connect() takes the whole cap.
    const opened = connect(broker.url, { presenceSettleMs: 60_000, awaitHosts: ['aw-1'] }).then((f) => (fleets.push(f), f));
    const first = await Promise.race([opened, sleep(2_500).then(() => 'still waiting' as const)]);
    expect(first).not.toBe('still waiting');
    expect((first as Fleet).host('aw-1')?.online).toBe(true);
  });

  it('a named host it never hears of still costs the window, then the host is reported unknown', async () => {
    const fleet = await connect(broker.url, { presenceSettleMs: 200, awaitHosts: ['aw-1', 'nobody-9'] });
    fleets.push(fleet);
    expect(fleet.host('aw-1')?.online).toBe(true);
    expect(fleet.host('nobody-9')).toBeUndefined();
  });

  it('the CLI names hosts only for plain host lists, never for all, selectors, globs or ranges', () => {
    expect(namedHosts('web-1')).toEqual(['web-1']);
    expect(namedHosts('web-1,db-2')).toEqual(['web-1', 'db-2']);
    for (const t of ['all', 'role=web', 'web-*', 'web[1-3]', 'web-1,role=db', undefined]) expect(namedHosts(t)).toBeUndefined();
  });
});
