// Rolling execution (Salt's batches could not be aborted, saltstack/salt #50833): batches run one after another, and
// past the failure budget no further batch starts; the hosts never reached are named as skipped.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandError, createAgent, type Agent } from '../../agent/index.js';
import { connect, rollout } from '../../controller/index.js';
import { startAedes, type TestBroker } from '../helpers/brokers.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const HOSTS = ['ro-1', 'ro-2', 'ro-3', 'ro-4', 'ro-5'];
const FAILING = new Set(['ro-1', 'ro-2']);

let cliRuns = 0;
function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  // Each run pins agent keys in a file of its own, never the user's ~/.config/conplyent/known_hosts
  // (test agents get new keys under old names, which a shared file would rightly call forged).
  const knownHosts = join(tmpdir(), `cp-rollout-known-hosts-${process.pid}-${++cliRuns}`);
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 30_000, env: { ...process.env, NO_COLOR: '1', CONPLYENT_KNOWN_HOSTS: knownHosts } }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('rolling execution with a failure budget', () => {
  let broker: TestBroker;
  const agents: Agent[] = [];
  const calls: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'cp-rollout-'));

  beforeAll(async () => {
    broker = await startAedes();
    for (const name of HOSTS) {
      const a = createAgent({ broker: broker.url, name, labels: { role: 'ro' }, stateDir: join(dir, name) });
      a.registerCommand('deploy', (ctx) => {
        calls.push(ctx.host);
        if (FAILING.has(ctx.host)) throw new CommandError('FAILED', `deploy failed on ${ctx.host}`);
        return 'deployed';
      });
      await a.start();
      agents.push(a);
    }
  });
  afterAll(async () => {
    for (const a of agents) await a.stop();
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the CLI stops after the batch that exceeded --max-failures and names the hosts it never ran on', async () => {
    calls.length = 0;
    const r = await cli(['run', 'role=ro', 'deploy', '--batch', '2', '--max-failures', '1', '--broker', broker.url, '--json']);
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const rolloutLine = lines.find((l) => l.type === 'rollout');
    expect(rolloutLine).toMatchObject({ aborted: true, failed: 2, skipped: ['ro-3', 'ro-4', 'ro-5'] });
    expect(calls.sort()).toEqual(['ro-1', 'ro-2']);
  });

  it('without failures every batch runs, in order, and the exit status is 0', async () => {
    calls.length = 0;
    const r = await cli(['exec', 'role=ro', '--batch', '2', '--broker', broker.url, '--', 'true']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('batch 1: ro-1, ro-2');
    expect(r.stderr).toContain('batch 3: ro-5');
  });

  it('the library rollout() reports skipped hosts and runs nothing past the budget', async () => {
    calls.length = 0;
    const fleet = await connect(broker.url);
    try {
      const r = await rollout(fleet, 'role=ro', 'deploy', [], { batchSize: 1, maxFailures: 0, waitMs: 5_000 });
      expect(r).toMatchObject({ aborted: true, skipped: ['ro-2', 'ro-3', 'ro-4', 'ro-5'] });
      expect(r.results.map((x) => [x.host, x.state])).toEqual([['ro-1', 'error']]);
      expect(calls).toEqual(['ro-1']);
    } finally {
      await fleet.close();
    }
  });
});
