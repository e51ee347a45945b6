// The files of chunked uploads kept open between chunks (agent/commands/open-uploads.ts): each
// chunk must still mean "write at byte N of the file at this path", whatever happened to the path
// since the last chunk, and the open files stay bounded in number and in time.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAgent } from '../../agent/index.js';
import { OpenUploads } from '../../agent/commands/open-uploads.js';
import { startAedes } from '../helpers/brokers.js';
import { until } from '../helpers/until.js';
import { connectWire, result } from '../helpers/wire.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cp-uploads-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const refuse = (target: string, st: { isFIFO(): boolean; isSocket(): boolean }) => {
  if (st.isFIFO() || st.isSocket()) throw new Error(`${target}: is a FIFO`);
};
/** Descriptors this process holds open on files under `under` (default: the test's directory). */
const openUnder = (under = dir) => readdirSync('/proc/self/fd').filter((fd) => {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`).startsWith(under);
  } catch {
    return false;
  }
}).length;

describe.skipIf(process.platform !== 'linux')('OpenUploads', () => {
  it('writes chunks at their offsets through one open file, and reports the size after each', async () => {
    const u = new OpenUploads({ keep: true });
    const f = join(dir, 'up');
    expect(await u.write(f, Buffer.from('abc'), 0, true, refuse)).toBe(3);
    expect(await u.write(f, Buffer.from('ghi'), 6, false, refuse)).toBe(9);
    expect(await u.write(f, Buffer.from('def'), 3, false, refuse)).toBe(9);
    expect(await u.write(f, Buffer.alloc(0), 20, false, refuse)).toBe(9); // nothing written: not extended
    expect(readFileSync(f, 'utf8')).toBe('abcdefghi');
    expect(openUnder()).toBe(1);
    expect(await u.write(f, Buffer.from('xy'), 2, true, refuse)).toBe(4);
    expect(readFileSync(f, 'utf8')).toBe('abxy');
    await u.closeAll();
    expect(openUnder()).toBe(0);
  });

  it('a file replaced between chunks: the next chunk goes to the new file, never the old one', async () => {
    const u = new OpenUploads({ keep: true });
    const f = join(dir, 'up');
    await u.write(f, Buffer.from('1111'), 0, true, refuse);
    renameSync(f, join(dir, 'old'));
    writeFileSync(f, 'new file');
    expect(await u.write(f, Buffer.from('22'), 4, false, refuse)).toBe(8);
    expect(readFileSync(join(dir, 'old'), 'utf8')).toBe('1111');
    expect(readFileSync(f, 'utf8')).toBe('new 22le');
    await u.closeAll();
  });

  it('a file removed between chunks is created again, as when every chunk opened it', async () => {
    const u = new OpenUploads({ keep: true });
    const f = join(dir, 'up');
    await u.write(f, Buffer.from('1111'), 0, true, refuse);
    rmSync(f);
    expect(await u.write(f, Buffer.from('22'), 4, false, refuse)).toBe(6);
    expect(readFileSync(f)).toEqual(Buffer.from([0, 0, 0, 0, 0x32, 0x32]));
    await u.closeAll();
  });

  it('a FIFO put in the file\'s place is refused, not written to and not waited on', async () => {
    const u = new OpenUploads({ keep: true });
    const f = join(dir, 'up');
    await u.write(f, Buffer.from('1111'), 0, true, refuse);
    rmSync(f);
    execFileSync('mkfifo', [f]);
    await expect(u.write(f, Buffer.from('22'), 4, false, refuse)).rejects.toThrow('is a FIFO');
    expect(statSync(f).isFIFO()).toBe(true);
    await u.closeAll();
    expect(openUnder()).toBe(0);
  });

  it('holds at most maxOpen files, and closes each once it has been idle for idleMs', async () => {
    const u = new OpenUploads({ keep: true, maxOpen: 3, idleMs: 100 });
    for (let i = 0; i < 6; i++) await u.write(join(dir, `f${i}`), Buffer.from('x'), 0, false, refuse);
    expect(u.size).toBe(3);
    expect(openUnder()).toBe(3);
    // The files close 100 ms after their last chunk.
    await until('the idle files to close', () => openUnder() === 0, 2_500, 50);
    expect(openUnder()).toBe(0);
    expect(u.size).toBe(0);
  });

  it('chunks in flight together on one file all land, and one open file is kept', async () => {
    const u = new OpenUploads({ keep: true, idleMs: 60_000 });
    const f = join(dir, 'up');
    const parts = Array.from({ length: 8 }, (_, i) => Buffer.alloc(1000, 65 + i));
    await Promise.all(parts.map((p, i) => u.write(f, p, i * 1000, false, refuse)));
    expect(readFileSync(f)).toEqual(Buffer.concat(parts));
    // Chunks that raced to open the new file each opened it; only one stays open.
    await until('the raced opens to close', () => openUnder() <= 1, 200, 10);
    expect(openUnder()).toBe(1);
    await u.closeAll();
    expect(openUnder()).toBe(0);
  });

  it('without keep (Windows) every chunk closes its file', async () => {
    const u = new OpenUploads({ keep: false });
    const f = join(dir, 'up');
    await u.write(f, Buffer.from('abc'), 0, true, refuse);
    await u.write(f, Buffer.from('def'), 3, false, refuse);
    expect(readFileSync(f, 'utf8')).toBe('abcdef');
    expect(u.size).toBe(0);
    await until('the file to close', () => openUnder() === 0, 200, 10);
    expect(openUnder()).toBe(0);
  });

  it('an agent keeps an uploaded file open between chunks and closes it when it stops', async () => {
    const broker = await startAedes();
    const wire = await connectWire(broker.url);
    const agent = createAgent({ broker: broker.url, name: 'up-1', stateDir: join(dir, 'state'), keepaliveSec: 5 });
    try {
      await agent.start();
      const f = join(dir, 'up.bin');
      const wr = (data: string, offset: number) => wire.run('up-1', { cmd: 'wrfile', args: [f, data], opts: { offset } }).then(result);
      expect(await wr('abc', 0)).toMatchObject({ type: 'result', code: 0, value: { size: 3 } });
      expect(await wr('def', 3)).toMatchObject({ type: 'result', code: 0, value: { size: 6 } });
      expect(readFileSync(f, 'utf8')).toBe('abcdef');
      expect(openUnder(f)).toBe(1);
      await agent.stop();
      expect(openUnder(f)).toBe(0);
    } finally {
      await agent.stop();
      await wire.close();
      await broker.stop();
    }
  });
});

