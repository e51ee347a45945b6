// A job id the agent has already seen gets a `duplicate` notice and nothing else [cp-dedupe-1]; the
// first run's events stand and `replay` fetches them. The controller must turn that into an answer,
// not wait for events that will never come (no-answer, or forever without waitMs).
import { describe, expect, it } from 'vitest';
import { connect } from '../../controller/index.js';
import { fleetOnAedes } from '../helpers/agent-fixture.js';

describe('a job id used again', () => {
  // replayJobs 1: the events of all but the last finished job are forgotten.
  const f = fleetOnAedes('dup-1', { keepaliveSec: 5, replayJobs: 1 });

  it('[cp-dedupe-1] gets the first run\'s result (replayed), not no-answer', async () => {
    const [first] = await f.fleet.run('dup-1', 'ping', [], { id: 'same-id', waitMs: 5_000 }).done();
    expect(first.state).toBe('ok');
    // A retrying script: another controller sends the same id.
    const retry = await connect(f.broker.url);
    try {
      const [again] = await retry.run('dup-1', 'ping', [], { id: 'same-id', waitMs: 5_000 }).done();
      expect(again).toMatchObject({ state: 'ok', value: first.value });
    } finally {
      await retry.close();
    }
  });

  it('[cp-dedupe-1] settles as rejected (UNKNOWN_JOB, naming the duplicate) when the first run\'s events are gone', async () => {
    await f.fleet.run('dup-1', 'ping', [], { id: 'old-id', waitMs: 5_000 }).done();
    await f.fleet.run('dup-1', 'ping', [], { id: 'newer-id', waitMs: 5_000 }).done();
    const [again] = await f.fleet.run('dup-1', 'ping', [], { id: 'old-id', waitMs: 5_000 }).done();
    expect(again.state).toBe('rejected');
    expect(again.error?.code).toBe('UNKNOWN_JOB');
    expect(again.error?.message).toMatch(/already/);
  });

  it('a job run and then attached in the same controller gets its events (the old unsubscribe must not remove the new subscription)', async () => {
    const [first] = await f.fleet.run('dup-1', 'ping', [], { id: 'run-then-attach', waitMs: 5_000 }).done();
    expect(first.state).toBe('ok');
    const [attached] = await f.fleet.attach('dup-1', 'run-then-attach', { waitMs: 5_000 }).done();
    expect(attached).toMatchObject({ state: 'ok', value: first.value });
  });

  it('the same id run twice by one controller gets the first run\'s result the second time too', async () => {
    const [first] = await f.fleet.run('dup-1', 'ping', [], { id: 'twice-here', waitMs: 5_000 }).done();
    const [again] = await f.fleet.run('dup-1', 'ping', [], { id: 'twice-here', waitMs: 5_000 }).done();
    expect(again).toMatchObject({ state: 'ok', value: first.value });
  });
});
