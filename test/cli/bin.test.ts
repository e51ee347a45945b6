// The installed command, dist/bin/bin.js (cli/bin.ts bundled by cli/bundle.mjs): it answers as the
// unbundled dist/cli/main.js does, runs a controller verb against a real broker and agent, and hands
// the agent and broker verbs to the unbundled code, so plugins share the agent's classes.
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { agentOnAedes } from '../helpers/agent-fixture.js';
import { ensureBuilt, MAIN, ROOT } from './run-cli.js';

const BIN = join(ROOT, 'dist/bin/bin.js');
const HOOK = join(ROOT, 'test/cli/fixtures/log-modules.mjs');

const env = () => ({ PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: mkdtempSync(join(tmpdir(), 'cp-home-')), CONPLYENT_KNOWN_HOSTS: join(mkdtempSync(join(tmpdir(), 'cp-kh-')), 'known_hosts') });

/** For commands that need no broker: the broker of this suite runs in this process and would stall. */
function cli(entry: string, args: string[], pre: string[] = []) {
  return spawnSync(process.execPath, [...pre, entry, ...args], { encoding: 'utf8', timeout: 30_000, env: env() });
}

describe('dist/bin/bin.js, the bundled command', () => {
  const f = agentOnAedes('bin-1');

  it('answers --version, --help and a verb\'s --help exactly as the unbundled entry does', () => {
    ensureBuilt();
    for (const args of [['--version'], ['--help'], ['exec', '--help'], ['put', '--help']]) {
      const a = cli(BIN, args);
      const b = cli(MAIN, args);
      expect(a.status, a.stderr).toBe(0);
      expect(a.stdout).toBe(b.stdout);
    }
  });

  it('a bad flag is a usage error (exit 2), as unbundled', () => {
    const r = cli(BIN, ['exec', '--no-such-flag', 'all', '--', 'true']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("unknown option '--no-such-flag'");
  });

  it('runs exec on a real agent through a real broker', async () => {
    const r = await promisify(execFile)(process.execPath, [BIN, 'exec', 'bin-1', '--broker', f.broker.url, '--', 'echo', 'from-the-bundle'], { timeout: 30_000, env: env() });
    expect(r.stdout).toContain('bin-1: from-the-bundle');
  });

  it('hands the agent verb to the unbundled dist/cli: no agent code from the bundle loads', () => {
    const r = cli(BIN, ['agent', '--help'], ['--import', HOOK]);
    expect(r.status, r.stderr).toBe(0);
    const mods = r.stderr.split('\n').filter((l) => l.startsWith('MODULE ')).map((l) => l.slice('MODULE '.length));
    expect(mods.some((m) => m.endsWith('/dist/cli/agent.js'))).toBe(true);
    expect(mods.filter((m) => /\/dist\/bin\/(?!bin\.js|verbs-)/.test(m))).toEqual([]);
  });
});
