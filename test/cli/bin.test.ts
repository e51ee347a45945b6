// The installed command, dist/bin/bin.js (cli/bin.ts bundled by cli/bundle.mjs): it answers as the
// unbundled dist/cli/main.js does, runs a controller verb against a real broker and agent, and hands
// the agent and broker verbs to the unbundled code, so plugins share the agent's classes.
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent, type Agent } from '../../agent/index.js';
import { startBroker, type RunningBroker } from '../../broker/index.js';
import { agentOnAedes } from '../helpers/agent-fixture.js';
import { startSocks5Proxy } from '../helpers/socks5-proxy.js';
import { selfSignedCert } from '../helpers/tls-cert.js';
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

// cli/bundle.mjs rewrites mqtt.js so its WebSocket, TLS and SOCKS code loads on first use (the SOCKS
// code from node_modules): the bundled command must still dial every way it did.
describe('dist/bin/bin.js over WebSocket, TLS and a SOCKS proxy', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cp-bin-tr-'));
  let broker: RunningBroker;
  let agent: Agent;

  beforeAll(async () => {
    broker = await startBroker({ port: 0, wsPort: 0, tls: { port: 0, ...selfSignedCert(dir) } });
    agent = createAgent({ broker: broker.url, name: 'bin-tr-1', stateDir: join(dir, 'state') });
    await agent.start();
  });
  afterAll(async () => {
    await agent?.stop();
    await broker?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs exec through ws:// and mqtts:// as through mqtt://', async () => {
    for (const url of [`ws://127.0.0.1:${broker.wsPort}/mqtt`, `mqtts://127.0.0.1:${broker.tlsPort}`]) {
      const r = await promisify(execFile)(process.execPath, [BIN, 'exec', 'bin-tr-1', '--broker', url, '--ca', join(dir, 'cert.pem'), '--', 'echo', 'over', url], { timeout: 30_000, env: env() });
      expect(r.stdout).toContain(`bin-tr-1: over ${url}`);
    }
  });

  it('runs exec through the SOCKS5 proxy mqtt.js takes from MQTTJS_SOCKS_PROXY', async () => {
    const proxy = await startSocks5Proxy();
    try {
      const r = await promisify(execFile)(process.execPath, [BIN, 'exec', 'bin-tr-1', '--broker', broker.url, '--', 'echo', 'via', 'socks'], { timeout: 30_000, env: { ...env(), MQTTJS_SOCKS_PROXY: proxy.url } });
      expect(r.stdout).toContain('bin-tr-1: via socks');
      expect(proxy.forwarded()).toBeGreaterThan(0);
    } finally {
      await proxy.close();
    }
  });
});
