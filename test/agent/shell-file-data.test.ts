import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_CHUNK_BYTES } from '../../protocol/index.js';
import { freshShellPerTest, waitFor } from './shell-harness.js';

const t = freshShellPerTest('cp-shell-data-');

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const allBytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

describe('wrfile', () => {
  it('refuses a FIFO instead of blocking one of the agent\'s file threads until a writer appears', async () => {
    execFileSync('mkfifo', [path.join(t.dir, 'pipe')]);
    for (const r of [await t.sh.runText('rdfile pipe'), await t.sh.runText('hash pipe'), await t.sh.runText('wrfile pipe x')]) {
      expect(r).toMatchObject({ ok: false, error: 'PATH' });
      expect((r as { message: string }).message).toContain('is a FIFO');
    }
  });

  it('writes utf8 text, replacing the file, and reports bytes and size', async () => {
    await fs.writeFile(path.join(t.dir, 'n.txt'), 'a much longer old content');
    const r = await t.sh.runText('wrfile n.txt "héllo world"');
    expect(r).toEqual({ ok: true, code: 0, value: { path: path.join(t.dir, 'n.txt'), bytes: 12, size: 12 } });
    expect(await fs.readFile(path.join(t.dir, 'n.txt'), 'utf8')).toBe('héllo world');
  });

  it('append=true appends; an unquoted number is written as its text', async () => {
    await t.sh.runText('wrfile n.txt 42');
    expect(await t.sh.runText('wrfile n.txt "\n43" append=true')).toMatchObject({ value: { bytes: 3, size: 5 } });
    expect(await fs.readFile(path.join(t.dir, 'n.txt'), 'utf8')).toBe('42\n43');
  });

  it('is binary-safe with encoding=base64', async () => {
    expect(await t.sh.run('wrfile', ['bin', allBytes.toString('base64')], { encoding: 'base64' })).toMatchObject({ value: { bytes: 256, size: 256 } });
    expect((await fs.readFile(path.join(t.dir, 'bin'))).equals(allBytes)).toBe(true);
  });

  it('offset=N assembles a chunked upload, and truncate=true cuts a longer old file at the end of the chunk', async () => {
    const file = Buffer.concat([allBytes, allBytes, allBytes.subarray(0, 100)]);
    await fs.writeFile(path.join(t.dir, 'up'), Buffer.alloc(2000, 7));
    for (let off = 0; off < file.length; off += 256) {
      const part = file.subarray(off, off + 256);
      const last = off + 256 >= file.length;
      const r = await t.sh.run('wrfile', ['up', part.toString('base64')], { encoding: 'base64', offset: off, ...(last ? { truncate: true } : {}) });
      expect(r.ok).toBe(true);
    }
    expect(sha(await fs.readFile(path.join(t.dir, 'up')))).toBe(sha(file));
    // A chunk may arrive first: writing at an offset creates the file.
    expect(await t.sh.run('wrfile', ['fresh', 'xyz'], { offset: '3' })).toMatchObject({ value: { size: 6 } });
  });

  it('rejects invalid base64 and contradictory options with BAD_ARGS, and writes nothing', async () => {
    expect(await t.sh.run('wrfile', ['b', 'not base64!'], { encoding: 'base64' })).toMatchObject({ ok: false, error: 'BAD_ARGS', code: -1 });
    expect(await t.sh.run('wrfile', ['b', 'x'], { append: true, offset: 0 })).toMatchObject({ ok: false, error: 'BAD_ARGS' });
    expect(await t.sh.run('wrfile', ['b', 'x'], { truncate: true })).toMatchObject({ ok: false, error: 'BAD_ARGS' });
    expect(await t.sh.run('wrfile', ['b', 'x'], { encoding: 'hex' })).toMatchObject({ ok: false, error: 'BAD_ARGS' });
    expect(await t.sh.run('wrfile', ['b', 'x'], { offset: -1 })).toMatchObject({ ok: false, error: 'BAD_ARGS' });
    expect(await t.sh.run('wrfile', ['b'])).toMatchObject({ ok: false, error: 'BAD_ARGS', message: expect.stringContaining('data is required') });
    expect(await fs.readdir(t.dir)).toEqual([]);
  });

  it('base64 is decoded strictly: canonical, unpadded and wrapped data are written, a bad character or a dangling one refused', async () => {
    const data = allBytes.subarray(0, 100);
    const b64 = data.toString('base64');
    expect(await t.sh.run('wrfile', ['p', b64], { encoding: 'base64' })).toMatchObject({ ok: true, value: { bytes: 100 } });
    expect(await t.sh.run('wrfile', ['u', b64.replace(/=+$/, '')], { encoding: 'base64' })).toMatchObject({ ok: true, value: { bytes: 100 } });
    expect(await t.sh.run('wrfile', ['w', `${b64.slice(0, 60)}\n${b64.slice(60)}`], { encoding: 'base64' })).toMatchObject({ ok: true, value: { bytes: 100 } });
    for (const f of ['p', 'u', 'w']) expect(sha(await fs.readFile(path.join(t.dir, f)))).toBe(sha(data));
    expect(await t.sh.run('wrfile', ['x', `${b64.slice(0, 8)}*${b64.slice(8)}`], { encoding: 'base64' })).toMatchObject({ ok: false, error: 'BAD_ARGS' });
    expect(await t.sh.run('wrfile', ['x', 'QUJD' + 'R'], { encoding: 'base64' })).toMatchObject({ ok: false, error: 'BAD_ARGS' });
  });

  it('writing to a directory or into a missing directory is a PATH error', async () => {
    await fs.mkdir(path.join(t.dir, 'd'));
    expect(await t.sh.run('wrfile', ['d', 'x'])).toMatchObject({ ok: false, error: 'PATH', message: expect.stringContaining(path.join(t.dir, 'd')) });
    expect(await t.sh.run('wrfile', ['nope/f', 'x'])).toMatchObject({ ok: false, error: 'PATH' });
    expect(await t.sh.run('wrfile', ['d', 'x'], { offset: 0 })).toMatchObject({ ok: false, error: 'PATH' });
  });
});

describe('hash', () => {
  it("returns a file's size and sha256", async () => {
    const data = Buffer.concat([allBytes, Buffer.alloc(200_000, 1)]);
    await fs.writeFile(path.join(t.dir, 'h'), data);
    expect(await t.sh.run('hash', ['h'])).toEqual({ ok: true, code: 0, value: { path: path.join(t.dir, 'h'), size: data.length, sha256: sha(data) } });
  });

  it('a directory or a missing file is a PATH error', async () => {
    expect(await t.sh.run('hash', ['.'])).toMatchObject({ ok: false, error: 'PATH', message: expect.stringContaining('directory') });
    expect(await t.sh.run('hash', ['missing'])).toMatchObject({ ok: false, error: 'PATH' });
  });
});

describe('rdfile', () => {
  const big = Buffer.concat(Array.from({ length: 800 }, (_, i) => Buffer.concat([allBytes, Buffer.from([i & 255])])));

  it('streams the whole file as stdout chunks no bigger than the wire chunk, bytes intact, with its sha256', async () => {
    await fs.writeFile(path.join(t.dir, 'big'), big);
    const job = t.sh.start('rdfile', ['big']);
    const r = await job.done;
    const got = Buffer.concat(job.out.map((c) => c.data));
    expect(got.equals(big)).toBe(true);
    expect(job.out.every((c) => c.stream === 'stdout' && c.data.length <= MAX_CHUNK_BYTES)).toBe(true);
    expect(job.out.length).toBeGreaterThan(1);
    expect(r).toEqual({ ok: true, code: 0, value: { path: path.join(t.dir, 'big'), size: big.length, bytes: big.length, sha256: sha(big) } });
  });

  it('offset and length select a byte range; a range past the end sends nothing', async () => {
    await fs.writeFile(path.join(t.dir, 'big'), big);
    const job = t.sh.start('rdfile', ['big'], { offset: 1000, length: 70_000 });
    expect(await job.done).toMatchObject({ value: { bytes: 70_000, sha256: sha(big.subarray(1000, 71_000)) } });
    expect(Buffer.concat(job.out.map((c) => c.data)).equals(big.subarray(1000, 71_000))).toBe(true);
    const past = t.sh.start('rdfile', ['big'], { offset: big.length + 5 });
    expect(await past.done).toMatchObject({ ok: true, value: { bytes: 0, size: big.length } });
    expect(past.out).toEqual([]);
  });

  it('reads the next chunk only after the previous write resolved (backpressure), and a kill ends it as CANCELLED', async () => {
    await fs.writeFile(path.join(t.dir, 'big'), big);
    let release!: () => void;
    const job = t.sh.start('rdfile', ['big'], {}, { write: () => new Promise<void>((r) => (release = r)) });
    expect(await waitFor(() => job.out.length === 1)).toBe(true);
    await new Promise((r) => setTimeout(r, 100));
    expect(job.out.length).toBe(1);
    job.abort({ kind: 'kill' });
    release();
    expect(await job.done).toMatchObject({ ok: false, error: 'CANCELLED' });
  });

  it('a missing file or a directory is a PATH error before any output', async () => {
    const a = t.sh.start('rdfile', ['missing']);
    expect(await a.done).toMatchObject({ ok: false, error: 'PATH', message: expect.stringContaining('missing') });
    const b = t.sh.start('rdfile', ['.']);
    expect(await b.done).toMatchObject({ ok: false, error: 'PATH' });
    expect([...a.out, ...b.out]).toEqual([]);
  });
});
