// Chunks of an upload (`wrfile` at an offset, no truncate) run beside the foreground queue, at most
// four at a time; a truncating or whole-file write keeps its place in the queue [cp-dispatch-5].
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Lane } from '../../agent/jobs/lane.js';
import { isPositionalWrite } from '../../agent/jobs/positional.js';
import { agentOnAedes } from '../helpers/agent-fixture.js';
import { result } from '../helpers/wire.js';

describe('positional writes', () => {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const f = agentOnAedes('pw-1', { keepaliveSec: 5 }, (f) => {
    // A foreground command that holds the queue until the background `open` lets it go.
    f.agent.registerCommand('gate', async () => {
      await gate;
      return 'opened';
    });
    f.agent.registerBackgroundCommand('open', () => open());
    f.agent.registerCommand('hold', async () => {
      await held;
      return 'released';
    });
    f.agent.registerBackgroundCommand('release', () => release());
  });

  it('[cp-dispatch-5] a chunk at an offset is written while a foreground command holds the queue; a truncating write waits its turn', async () => {
    const file = join(f.dir, 'upload');
    const ev = (id: string, types: string[]) => (m: { topic: string; json: any }) => m.topic === `conplyent/pw-1/job/${id}` && types.includes(m.json.type);
    f.wire.send('conplyent/pw-1/cmd', { id: 'gate-1', cmd: 'gate' });
    await f.wire.waitFor(ev('gate-1', ['accepted']));
    const chunk = result(await f.wire.run('pw-1', { id: 'chunk-1', cmd: 'wrfile', args: [file, 'BBB'], opts: { offset: 3 } }));
    expect(chunk).toMatchObject({ type: 'result', code: 0, value: { bytes: 3, size: 6 } });
    expect(f.wire.messages.some(ev('gate-1', ['result', 'error']))).toBe(false);
    f.wire.send('conplyent/pw-1/cmd', { id: 'trunc-1', cmd: 'wrfile', args: [file, 'AAA'], opts: { offset: 0, truncate: true } });
    await f.wire.waitFor(ev('trunc-1', ['accepted']));
    await f.wire.run('pw-1', { id: 'open-1', cmd: 'open' });
    const held = await f.wire.waitFor(ev('gate-1', ['result']));
    const trunc = await f.wire.waitFor(ev('trunc-1', ['result', 'error']));
    expect(trunc.json).toMatchObject({ type: 'result', value: { size: 3 } });
    expect(f.wire.messages.indexOf(held)).toBeLessThan(f.wire.messages.indexOf(trunc));
    expect(readFileSync(file, 'utf8')).toBe('AAA');
  });

  it('[cp-dispatch-5] only wrfile at an offset without truncate or append, to an absolute path or from an absolute cwd, is positional', () => {
    expect(isPositionalWrite('wrfile', ['/tmp/f', 'x'], { offset: 131072, truncate: false })).toBe(true);
    expect(isPositionalWrite('wrfile', ['f', 'x'], { offset: 131072 }, '/tmp')).toBe(true);
    expect(isPositionalWrite('wrfile', ['f', 'x'], { offset: 131072 })).toBe(false);
    expect(isPositionalWrite('wrfile', ['f', 'x'], { offset: 131072 }, 'sub')).toBe(false);
    expect(isPositionalWrite('wrfile', ['/tmp/f', 'x'], { offset: 0, truncate: true })).toBe(false);
    expect(isPositionalWrite('wrfile', ['/tmp/f', 'x'], { append: true })).toBe(false);
    expect(isPositionalWrite('wrfile', ['/tmp/f', 'x'], {})).toBe(false);
    expect(isPositionalWrite('rm', ['/tmp/f'], { offset: 1 })).toBe(false);
  });

  it('[cp-dispatch-5] a chunk to a relative path waits for a cd queued before it, and lands in the cd\'s directory', async () => {
    const [a, b] = [join(f.dir, 'a'), join(f.dir, 'b')];
    mkdirSync(a);
    mkdirSync(b);
    const ev = (id: string, types: string[]) => (m: { topic: string; json: any }) => m.topic === `conplyent/pw-1/job/${id}` && types.includes(m.json.type);
    expect(result(await f.wire.run('pw-1', { id: 'cd-a', cmd: 'cd', args: [a], session: 'rel' }))).toMatchObject({ type: 'result', code: 0 });
    f.wire.send('conplyent/pw-1/cmd', { id: 'hold-1', cmd: 'hold' });
    await f.wire.waitFor(ev('hold-1', ['accepted']));
    f.wire.send('conplyent/pw-1/cmd', { id: 'cd-b', cmd: 'cd', args: [b], session: 'rel' });
    await f.wire.waitFor(ev('cd-b', ['accepted']));
    f.wire.send('conplyent/pw-1/cmd', { id: 'rel-chunk', cmd: 'wrfile', args: ['rel.bin', 'XY'], opts: { offset: 0 }, session: 'rel' });
    await f.wire.waitFor(ev('rel-chunk', ['accepted']));
    await f.wire.run('pw-1', { id: 'release-1', cmd: 'release' });
    expect((await f.wire.waitFor(ev('rel-chunk', ['result', 'error']))).json).toMatchObject({ type: 'result', code: 0 });
    expect(existsSync(join(a, 'rel.bin'))).toBe(false);
    expect(readFileSync(join(b, 'rel.bin'), 'utf8')).toBe('XY');
  });

  it('[cp-dispatch-5] the lane runs tasks in arrival order, at most its size at once', async () => {
    const lane = new Lane(4);
    const started: number[] = [];
    const release: (() => void)[] = [];
    let running = 0;
    let most = 0;
    for (let i = 0; i < 6; i++) {
      void lane.run(async () => {
        started.push(i);
        most = Math.max(most, ++running);
        await new Promise<void>((r) => release.push(r));
        running--;
      });
    }
    expect(started).toEqual([0, 1, 2, 3]);
    for (let n = 0; n < 6; n++) {
      release[n]!();
      await new Promise((r) => setImmediate(r));
    }
    expect(started).toEqual([0, 1, 2, 3, 4, 5]);
    expect(most).toBe(4);
  });
});
