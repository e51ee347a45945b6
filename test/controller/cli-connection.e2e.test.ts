// What an operator sees when the broker goes away under a running `conplyent exec`: one plain line
// per event (lost, why it cannot reconnect, back), never pino JSON and never one line per retry,
// and the job still ends with its one result. A real broker stopped and started on the same port.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAedes, type TestBroker } from '../helpers/brokers.js';
import { CLI_MAIN, startFleet, type TestFleet } from '../helpers/fleet.js';
import { until } from '../helpers/until.js';
import { sleep } from '../helpers/wire.js';

describe('connection trouble under a running CLI', () => {
  let broker: TestBroker;
  let fleet: TestFleet;
  let work: string;

  beforeAll(async () => {
    broker = await startAedes();
    fleet = await startFleet(broker.url, [{ name: 'conn-1' }]);
    work = mkdtempSync(join(tmpdir(), 'conplyent-conn-'));
  }, 60_000);

  afterAll(async () => {
    await fleet?.close();
    await broker?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  }, 30_000);

  it('the broker stops and comes back: one line for lost, one for the refusal, one for back; the job ends ok', async () => {
    const env = { ...process.env, NO_COLOR: '1', CONPLYENT_BROKER: broker.url, CONPLYENT_KNOWN_HOSTS: join(work, 'known_hosts') };
    const child = spawn(process.execPath, [CLI_MAIN, 'exec', 'conn-1', '--timeout', '90', '--', 'sh', '-c', 'sleep 4; echo finished'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((res) => child.on('exit', res));
    try {
      await until('the job id line', () => /job \S+ on conn-1/.test(stderr), 20_000);
      await broker.stop();
      await until('the lost line', () => stderr.includes('lost the connection'), 20_000);
      // The controller retries every second: several refusals while the broker is down.
      await sleep(3_000);
      await broker.restart();
      const code = await Promise.race([exited, sleep(60_000).then(() => 'hung' as const)]);
      expect(code, stderr).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
    expect(stdout).toBe('conn-1: finished\n');
    const lines = stderr.trim().split('\n');
    expect(lines.filter((l) => l === `conplyent: lost the connection to ${broker.url}; reconnecting`)).toHaveLength(1);
    expect(lines.filter((l) => l === `conplyent: reconnected to ${broker.url}`)).toHaveLength(1);
    // Each retry fails the same way: that is said once, not once a second.
    expect(lines.filter((l) => l.includes('ECONNREFUSED')).length).toBeLessThanOrEqual(1);
    expect(new Set(lines).size).toBe(lines.length);
    // Plain lines for an operator; pino JSON is for the agent's and broker's logs.
    for (const l of lines) expect(l).not.toMatch(/^\{/);
  }, 120_000);
});
