// The custom-command example in examples/ works as documented: registered, announced, run from any client.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import register from '../../examples/custom-commands.js';
import { agentOnAedes } from '../helpers/agent-fixture.js';
import { result } from '../helpers/wire.js';

describe('examples/custom-commands', () => {
  const f = agentOnAedes('lab-1', {}, (f) => {
    register(f.agent);
  });

  it('announces the custom commands in presence with their kind and usage', async () => {
    const m = await f.wire.waitFor((m) => m.topic === 'conplyent/lab-1/status' && m.json.online);
    expect(m.json.commands).toContainEqual({ name: 'greet', kind: 'foreground', usage: '<name>', summary: expect.any(String) });
    expect(m.json.commands).toContainEqual({ name: 'disk_usage', kind: 'background', usage: '[path]', summary: expect.any(String) });
  });

  it('runs greet from a plain-text payload, as mosquitto_pub would send it', async () => {
    expect(result(await f.wire.run('lab-1', 'id=greet-1 greet ops')).value).toBe('hello ops from lab-1');
  });

  it('runs disk_usage as a background job and reports its total', async () => {
    const root = join(f.dir, 'tree');
    mkdirSync(join(root, 'a'), { recursive: true });
    writeFileSync(join(root, 'a', 'f1'), 'x'.repeat(100));
    writeFileSync(join(root, 'f2'), 'y'.repeat(23));
    const evs = await f.wire.run('lab-1', { cmd: 'disk_usage', args: [root] });
    expect(evs[0]).toMatchObject({ type: 'accepted', kind: 'background' });
    expect(result(evs).value).toEqual({ path: root, files: 2, bytes: 123 });
    expect(result(await f.wire.run('lab-1', { cmd: 'disk_usage', args: [join(f.dir, 'missing')] }))).toMatchObject({ error: 'PATH' });
  });
});
