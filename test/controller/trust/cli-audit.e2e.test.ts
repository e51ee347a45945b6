// `conplyent audit HOST`: the agent's audit records fetched with its signed `audit` command, shown
// as a table or NDJSON, and --verify naming the record an attacker on the host altered or removed.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../../controller/index.js';
import { keyId } from '../../../protocol/index.js';
import { ndjson, runCli } from '../../helpers/fleet.js';
import { signedAgentOnAedes } from './signed-agent.js';

const HOST = 'audit-1';

describe('conplyent audit', () => {
  const f = signedAgentOnAedes(HOST);
  const cli = (args: string[]) => runCli(f.broker.url, [...args, '--signing-key', f.keyFile]);
  const logFile = () => {
    const d = join(f.dir, 'state', 'audit');
    return join(d, readdirSync(d).filter((n) => n.endsWith('.jsonl')).sort()[0]!);
  };

  beforeAll(async () => {
    const fleet = await connect(f.broker.url, { signingKey: f.ops });
    for (let i = 0; i < 3; i++) await fleet.run([HOST], 'exec', ['true'], { id: `a${i}` }).done();
    await fleet.close();
  });

  it('[cp-audit-1] lists each decision and outcome with the key that signed it; --job and --json narrow it', async () => {
    const r = await cli(['audit', HOST]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/SEQ\s+TIME\s+WHAT\s+CODE/);
    expect(r.stdout).toMatch(new RegExp(`accepted\\s+ALLOWED\\s+exec\\s+true\\s+${keyId(f.ops)}`));
    const one = ndjson((await cli(['audit', HOST, '--job', 'a1', '--json'])).stdout);
    expect(one.map((x) => [x.type, x.kind, x.job])).toEqual([
      ['audit', 'decision', 'a1'],
      ['audit', 'outcome', 'a1'],
    ]);
  });

  it('[cp-audit-4] --verify passes an intact log, names an altered record and a removed one (exit 5)', async () => {
    const ok = await cli(['audit', HOST, '--verify']);
    expect(ok.code).toBe(0);
    expect(ok.stderr).toMatch(/records intact \(hashes and chain checked\)/);
    const file = logFile();
    const original = readFileSync(file, 'utf8');
    const lines = original.trim().split('\n');
    // Someone on the host rewrites record 3's outcome, then deletes record 2 instead.
    writeFileSync(file, lines.map((l, i) => (i === 2 ? l.replace(/"code":"[A-Z_0-9]+"/, '"code":"DENIED"') : l)).join('\n') + '\n');
    const altered = await cli(['audit', HOST, '--verify']);
    expect(altered.code).toBe(5);
    expect(altered.stderr).toMatch(/record 3 does not match its hash: altered/);
    writeFileSync(file, lines.filter((_, i) => i !== 1).join('\n') + '\n');
    const removed = await cli(['audit', HOST, '--verify', '--json']);
    expect(removed.code).toBe(5);
    expect(ndjson(removed.stdout).at(-1)).toMatchObject({ type: 'verify', ok: false, problem: 'records between 1 and 3 are missing' });
    writeFileSync(file, original);
  });

  it('refuses a malformed --since with a usage error', async () => {
    const r = await cli(['audit', HOST, '--since', 'yesterday-ish']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--since "yesterday-ish": expected 30m, 2h, 7d/);
  });
});
