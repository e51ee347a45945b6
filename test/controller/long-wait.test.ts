// Waits longer than Node's timer range (2^31-1 ms, about 24.8 days) must wait, not expire at once.
import { describe, expect, it } from 'vitest';
import { fleetOnAedes } from '../helpers/agent-fixture.js';

describe('long waits', () => {
  const f = fleetOnAedes('lw-1', { keepaliveSec: 5 });

  it('a timeoutMs of 35 days (waitMs beyond 2^31 ms) waits for the result instead of settling no-answer at once', async () => {
    const job = f.fleet.run('lw-1', 'exec', ['sleep', '0.3'], { timeoutMs: 35 * 24 * 3600_000 });
    const [r] = await job.done();
    expect(r).toMatchObject({ host: 'lw-1', state: 'ok', code: 0 });
  });

  it('an explicit waitMs beyond 2^31 ms waits too', async () => {
    const job = f.fleet.run('lw-1', 'ping', [], { waitMs: 2 ** 31 + 1000 });
    const [r] = await job.done();
    expect(r).toMatchObject({ host: 'lw-1', state: 'ok' });
  });
});
