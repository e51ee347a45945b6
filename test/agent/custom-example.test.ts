// The custom-command example in examples/ works as documented: registered, announced, run from any client.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent, type Agent } from '../../agent/index.js';
import register from '../../examples/custom-commands.js';
import { startAedes, type TestBroker } from '../helpers/brokers.js';
import { connectWire, result, type Wire } from '../helpers/wire.js';

describe('examples/custom-commands', () => {
  let broker: TestBroker;
  let wire: Wire;
  let agent: Agent;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cp-custom-'));
    broker = await startAedes();
    agent = createAgent({ broker: broker.url, name: 'lab-1', stateDir: join(dir, 'state') });
    register(agent);
    await agent.start();
    wire = await connectWire(broker.url);
  });
  afterAll(async () => {
    await agent?.stop();
    await wire?.close();
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('announces the custom commands in presence with their kind and usage', async () => {
    const m = await wire.waitFor((m) => m.topic === 'conplyent/lab-1/status' && m.json.online);
    expect(m.json.commands).toContainEqual({ name: 'greet', kind: 'foreground', usage: '<name>', summary: expect.any(String) });
    expect(m.json.commands).toContainEqual({ name: 'disk_usage', kind: 'background', usage: '[path]', summary: expect.any(String) });
  });

  it('runs greet from a plain-text payload, as mosquitto_pub would send it', async () => {
    expect(result(await wire.run('lab-1', 'id=greet-1 greet ops')).value).toBe('hello ops from lab-1');
  });

  it('runs disk_usage as a background job and reports its total', async () => {
    const root = join(dir, 'tree');
    mkdirSync(join(root, 'a'), { recursive: true });
    writeFileSync(join(root, 'a', 'f1'), 'x'.repeat(100));
    writeFileSync(join(root, 'f2'), 'y'.repeat(23));
    const evs = await wire.run('lab-1', { cmd: 'disk_usage', args: [root] });
    expect(evs[0]).toMatchObject({ type: 'accepted', kind: 'background' });
    expect(result(evs).value).toEqual({ path: root, files: 2, bytes: 123 });
    expect(result(await wire.run('lab-1', { cmd: 'disk_usage', args: [join(dir, 'missing')] }))).toMatchObject({ error: 'PATH' });
  });
});
