// get() refuses a bad host with a clear error and leaves nothing behind (no .part file, no open fd).
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, get, type Fleet } from '../../controller/index.js';
import { startAedes, type TestBroker } from '../helpers/brokers.js';

describe('transfer errors', () => {
  let broker: TestBroker;
  let fleet: Fleet;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cp-xfer-'));
    broker = await startAedes();
    fleet = await connect(broker.url);
  });

  afterAll(async () => {
    await fleet?.close();
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('get with an invalid host name throws BAD_OPTION and leaves no partial file', async () => {
    await expect(get(fleet, 'bad/host', '/etc/hostname', join(dir, 'out'))).rejects.toMatchObject({ code: 'BAD_OPTION' });
    expect(readdirSync(dir)).toEqual([]);
  });
});
