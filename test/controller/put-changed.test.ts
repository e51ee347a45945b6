// put checks the remote against what it sent, so a local file written in place during the upload
// would leave a torn copy that checks out: put notices the change and never reports such a copy ok.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { put, PUT_FRAME_CHUNK_BYTES } from '../../controller/index.js';
import { fleetOnAedes } from '../helpers/agent-fixture.js';

describe('put of a file that changes while it is read', () => {
  const HOST = 'put-changed-1';
  const f = fleetOnAedes(HOST);

  it('a file rewritten in place after the first chunk is a mismatch naming the change, not ok', async () => {
    const local = join(f.dir, 'growing.bin');
    const remote = join(f.dir, 'remote.bin');
    const first = randomBytes(PUT_FRAME_CHUNK_BYTES * 3);
    const second = randomBytes(first.length);
    writeFileSync(local, first);
    let rewritten = false;
    const [r] = await put(f.fleet, HOST, local, remote, {
      onProgress: () => {
        // Once, after the first chunk landed: later chunks are read from the new contents.
        if (!rewritten) writeFileSync(local, second);
        rewritten = true;
      },
    });
    expect(rewritten).toBe(true);
    expect(r).toMatchObject({ host: HOST, ok: false, state: 'mismatch', error: expect.stringMatching(/changed during the upload \(modified\).*run put again/) });
    // What the host has is neither file: the first chunk of one, the rest of the other.
    const copy = readFileSync(remote);
    expect(copy.equals(first) || copy.equals(second)).toBe(false);
    expect(copy.subarray(0, PUT_FRAME_CHUNK_BYTES).equals(first.subarray(0, PUT_FRAME_CHUNK_BYTES))).toBe(true);
  });

  it('a file that shrinks during the upload names its sizes', async () => {
    const local = join(f.dir, 'shrinking.bin');
    writeFileSync(local, randomBytes(PUT_FRAME_CHUNK_BYTES * 3));
    let cut = false;
    const [r] = await put(f.fleet, HOST, local, join(f.dir, 'remote2.bin'), {
      onProgress: () => {
        if (!cut) writeFileSync(local, randomBytes(1000));
        cut = true;
      },
    });
    expect(r).toMatchObject({ ok: false, state: 'mismatch', error: expect.stringMatching(new RegExp(`size ${PUT_FRAME_CHUNK_BYTES * 3} → 1000 bytes`)) });
  });

  it('an unchanged file is ok, as before', async () => {
    const local = join(f.dir, 'still.bin');
    writeFileSync(local, randomBytes(PUT_FRAME_CHUNK_BYTES + 5));
    const [r] = await put(f.fleet, HOST, local, join(f.dir, 'remote3.bin'));
    expect(r).toMatchObject({ ok: true, state: 'ok' });
    expect(readFileSync(join(f.dir, 'remote3.bin')).equals(readFileSync(local))).toBe(true);
  });
});
