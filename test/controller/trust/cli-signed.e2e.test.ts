// `conplyent` signing as operators use it: a key file by flag, env or config file (never the key
// itself in a config file), a known-hosts file written on first contact, `forged` in the summary and
// the exit status, signing shown by `conplyent hosts`. Real broker, real agents requiring signatures.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateSigningKey, keyId, loadKeyFile, privateKeyPem, publicKeyText } from '../../../protocol/index.js';
import { ndjson, runCli } from '../../helpers/fleet.js';
import { signedAgentOnAedes } from './signed-agent.js';

const HOST = 'cli-sig-1';

describe('conplyent with signing keys', () => {
  const f = signedAgentOnAedes(HOST);
  const known = () => join(f.dir, 'home', 'known_hosts');
  const cli = (args: string[], env: Record<string, string> = {}) => runCli(f.broker.url, args, { env: { CONPLYENT_KNOWN_HOSTS: known(), ...env } });

  it('--signing-key signs: the agent that requires signatures runs it, and its key is pinned (0600)', async () => {
    const r = await cli(['exec', HOST, '--signing-key', f.keyFile, '--', 'echo', 'signed']);
    expect(r.stdout).toContain(`${HOST}: signed`);
    expect(r.code).toBe(0);
    expect(statSync(known()).mode & 0o777).toBe(0o600);
    expect(readFileSync(known(), 'utf8')).toMatch(new RegExp(`^${HOST} [A-Za-z0-9+/]{43}=\\n$`));
  });

  it('CONPLYENT_KEY_FILE signs as --signing-key does; unsigned, the refusal is reported at once, not as no answer', async () => {
    const ok = await cli(['exec', HOST, '--', 'true'], { CONPLYENT_KEY_FILE: f.keyFile });
    expect(ok.code).toBe(0);
    const bare = await cli(['exec', HOST, '--timeout', '20', '--', 'true']);
    expect(bare.code).toBe(1);
    expect(bare.stderr).toMatch(/REJECTED UNSIGNED/);
  });

  it('a config file names the key file; key material pasted into it is refused with a clear message', async () => {
    const good = join(f.dir, 'good.json');
    writeFileSync(good, JSON.stringify({ controller: { keyFile: 'ops.key' } }));
    expect((await cli(['exec', HOST, '--config', good, '--', 'true'])).code).toBe(0);
    const bad = join(f.dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ controller: { keyFile: privateKeyPem(f.ops) } }));
    const r = await cli(['exec', HOST, '--config', bad, '--', 'true']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/keyFile.*must be the path of a key file, not the key itself/);
  });

  it('hosts shows that the host requires signatures and its pinned key id; a changed key is flagged (exit 5)', async () => {
    const kid = keyId(loadKeyFile(join(f.dir, 'state', 'agent.key')).publicKey);
    const r = await cli(['hosts']);
    expect(r.stdout).toMatch(new RegExp(`${HOST}\\s+online.*required\\s+${kid}`));
    const json = ndjson((await cli(['hosts', '--json'])).stdout);
    expect(json[0]).toMatchObject({ name: HOST, requireSigned: true, keyId: kid });
    const other = join(f.dir, 'other_known');
    writeFileSync(other, `${HOST} ${publicKeyText(generateSigningKey().privateKey)}\n`);
    const changed = await cli(['hosts'], { CONPLYENT_KNOWN_HOSTS: other });
    expect(changed.code).toBe(5);
    expect(changed.stdout).toMatch(/CHANGED/);
    expect(changed.stderr).toMatch(/key changed for cli-sig-1/);
    // Its results are checked with the pinned key, so they are forged: exit 5, named in the summary.
    const run = await cli(['exec', HOST, '--signing-key', f.keyFile, '--', 'true'], { CONPLYENT_KNOWN_HOSTS: other });
    expect(run.code).toBe(5);
    expect(run.stderr).toMatch(/FORGED result, not from the host/);
  });
});
