// [cp-env-12] `cd` with a session moves that session only; without one it moves the shared
// directory (the original conplyent's behaviour, kept for scripts). Real broker, real agent, wire.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent, type Agent } from '../../agent/index.js';
import { MAX_SESSIONS, SessionDirs } from '../../agent/session-dirs.js';
import { startAedes, type TestBroker } from '../helpers/brokers.js';
import { connectWire, result, type Wire } from '../helpers/wire.js';

const HOST = 'sess-1';

describe('[cp-env-12] sessions: a current directory per operator', () => {
  let broker: TestBroker;
  let wire: Wire;
  let dir: string;
  let agent: Agent;
  const run = (cmd: object | string) => wire.run(HOST, cmd).then(result);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cp-session-'));
    for (const d of ['a', 'b', 'shared']) mkdirSync(join(dir, d));
    broker = await startAedes();
    wire = await connectWire(broker.url);
    agent = createAgent({ broker: broker.url, name: HOST, stateDir: join(dir, 'state'), power: async () => {} });
    await agent.start();
    await run({ cmd: 'cd', args: [join(dir, 'shared')] });
  });

  afterAll(async () => {
    await agent?.stop();
    await wire?.close();
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('cd in one session does not move another session or the shared directory', async () => {
    expect(await run({ cmd: 'cd', args: [join(dir, 'a')], session: 'alice' })).toMatchObject({ value: join(dir, 'a') });
    expect(await run({ cmd: 'cd', args: [join(dir, 'b')], session: 'bob' })).toMatchObject({ value: join(dir, 'b') });
    expect(await run({ cmd: 'cwd', session: 'alice' })).toMatchObject({ value: join(dir, 'a') });
    expect(await run({ cmd: 'cwd', session: 'bob' })).toMatchObject({ value: join(dir, 'b') });
    expect(await run({ cmd: 'cwd' })).toMatchObject({ value: join(dir, 'shared') });
    // A new session starts in the shared directory; exec runs in its session's directory.
    expect(await run({ cmd: 'cwd', session: 'carol' })).toMatchObject({ value: join(dir, 'shared') });
    const pwd = await wire.run(HOST, { cmd: 'exec', args: ['pwd'], session: 'alice' });
    expect(pwd.filter((e) => e.type === 'output').map((e) => e.data).join('')).toBe(`${join(dir, 'a')}\n`);
  });

  it('a session name outside [A-Za-z0-9_.-]{1,64} is BAD_ENVELOPE', async () => {
    expect(await run({ cmd: 'cwd', session: 'a/b' })).toMatchObject({ error: 'BAD_ENVELOPE' });
  });

  it(`remembers at most ${MAX_SESSIONS} sessions; the least recently used falls back to the shared directory`, () => {
    const d = new SessionDirs('/shared');
    d.set('/first', 's0');
    for (let i = 1; i <= MAX_SESSIONS; i++) d.set(`/d${i}`, `s${i}`);
    expect(d.get('s0')).toBe('/shared');
    expect(d.get(`s${MAX_SESSIONS}`)).toBe(`/d${MAX_SESSIONS}`);
    expect(d.get()).toBe('/shared');
  });
});
