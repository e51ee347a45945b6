// `conplyent agent` trust flags: --policy, --require-signed, --trusted-key, --signing-key and
// --max-jobs resolve like every other setting, and a bad policy or key stops the agent with one
// line and exit status 2 before it connects anywhere.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKey, publicKeyText } from '../../protocol/index.js';
import { cleanEnv, ensureBuilt, runCli } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'cp-cli-trust-'));
const pub = publicKeyText(generateSigningKey().privateKey);

beforeAll(() => ensureBuilt(), 180_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function oneLineFailure(args: string[], env: Record<string, string> = {}): Promise<string> {
  const r = await runCli(args, { env: cleanEnv(env) });
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  return r.stderr.trim();
}

describe('conplyent agent trust flags', () => {
  it('resolves them from flags and env into --print-config', async () => {
    const r = await runCli(['agent', '--broker', 'mqtt://127.0.0.1:9', '--trusted-key', pub, '--require-signed', '--max-jobs', '8', '--print-config'], {
      env: cleanEnv({ CONPLYENT_POLICY: join(dir, 'p.json') }),
    });
    expect(r.stderr).toBe('');
    const cfg = JSON.parse(r.stdout);
    expect(cfg).toMatchObject({ trustedKeys: [pub], requireSigned: true, maxJobs: 8, policyFile: join(dir, 'p.json') });
  });

  it('--require-signed without any key is refused as a configuration error', async () => {
    expect(await oneLineFailure(['agent', '--broker', 'mqtt://127.0.0.1:9', '--require-signed', '--print-config'])).toMatch(/--require-signed: needs --trusted-key/);
  });

  it('an invalid policy at start exits 2 with one line naming the file and field', async () => {
    const p = join(dir, 'bad.json');
    writeFileSync(p, JSON.stringify({ keys: { ops: pub }, rules: [{ name: 'r', keys: ['ops'], commands: ['exec'] }] }));
    const line = await oneLineFailure(['agent', '--broker', 'mqtt://127.0.0.1:9', '--name', 'cli-1', '--state-dir', join(dir, 's1'), '--policy', p]);
    expect(line).toContain(`policy ${p}: rules.0 (r): grants exec but has no exec block`);
  });

  it('a trusted key that is neither a key nor a readable key file exits 2 with one line', async () => {
    const line = await oneLineFailure(['agent', '--broker', 'mqtt://127.0.0.1:9', '--name', 'cli-2', '--state-dir', join(dir, 's2'), '--trusted-key', join(dir, 'missing.pub')]);
    expect(line).toMatch(/missing\.pub: cannot read it/);
  });
});
