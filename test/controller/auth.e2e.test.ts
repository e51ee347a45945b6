// Credentials reach the broker: the controller role may command agents; a wrong password is a
// clear connection error (exit 2), never a hang.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brokerKinds, startBrokerKind, type TestBroker } from '../helpers/brokers.js';
import { runCli, startFleet, type TestFleet } from '../helpers/fleet.js';

describe.each(brokerKinds())('controller with users on %s', (kind) => {
  let broker: TestBroker;
  let fleet: TestFleet;

  beforeAll(async () => {
    broker = await startBrokerKind(kind, {
      users: [
        { username: 'ops', password: 'ops-secret', role: 'controller' },
        { username: 'sec-1', password: 'agent-secret', role: 'agent' },
      ],
    });
    fleet = await startFleet(broker.url, [{ name: 'sec-1', password: 'agent-secret' }]);
  }, 60_000);

  afterAll(async () => {
    await fleet?.close();
    await broker?.stop();
  }, 30_000);

  it('a controller user with the right password runs commands', async () => {
    const r = await runCli(broker.url, ['exec', 'sec-1', '--username', 'ops', '--', 'echo', 'authed'], { env: { CONPLYENT_PASSWORD: 'ops-secret' } });
    // Only the job id announcement, nothing about the connection.
    expect(r.stderr).toMatch(/^job \S+ on sec-1\n$/);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('sec-1: authed\n');
  });

  it('a wrong password is a one-line connection error with exit 2', async () => {
    const r = await runCli(broker.url, ['ping', 'sec-1', '--username', 'ops'], { env: { CONPLYENT_PASSWORD: 'wrong' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^conplyent ping: cannot connect to mqtt:\/\/127\.0\.0\.1:\d+: .+\n$/);
  });
});
