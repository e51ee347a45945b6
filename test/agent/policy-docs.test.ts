// Every JSON block in docs/policy.md is a policy that validates, and does what the text says.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { evaluate, type PolicyRequest } from '../../agent/policy/evaluate.js';
import { parsePolicy, type Policy } from '../../agent/policy/schema.js';

const doc = readFileSync(new URL('../../docs/policy.md', import.meta.url), 'utf8');
const blocks = [...doc.matchAll(/```json\n([\s\S]*?)\n```/g)].map((m) => m[1]);

// Key ids of the public keys used in the examples.
const DEPLOY = 'i6wxhbfPBLrpAWZ5';
const OPS = 'gx0s7FvJ6Wto3LEg';
const AUDITOR = 'mgMtKQgke7Y8o64J';

function req(over: Partial<PolicyRequest>): PolicyRequest {
  return { cmd: 'ping', args: [], opts: {}, cwd: '/srv/www', home: '/root', ttlMs: 30_000, host: 'web-1', labels: { role: 'web' }, runningJobs: { total: 0, byRule: {} }, ...over };
}
const allowed = (p: Policy, r: Partial<PolicyRequest>) => evaluate(p, req(r)).allow;

describe('docs/policy.md', () => {
  it('has the three worked examples, and every block validates', () => {
    expect(blocks).toHaveLength(3);
    for (const b of blocks) expect(() => parsePolicy(JSON.parse(b))).not.toThrow();
  });

  it('web tier: deploy may update the site and restart nginx as www-data, nothing more', () => {
    const p = parsePolicy(JSON.parse(blocks[0]));
    const deploy = { kid: DEPLOY };
    expect(evaluate(p, req({ ...deploy, cmd: 'exec', args: ['/usr/bin/systemctl', 'restart', 'nginx.service'] }))).toMatchObject({ allow: true, rule: 'deploy', runAs: { user: 'www-data', group: 'www-data' } });
    expect(allowed(p, { ...deploy, cmd: 'exec', args: ['/usr/bin/git', '-C', '/srv/www', 'pull', '--ff-only'] })).toBe(true);
    expect(allowed(p, { ...deploy, cmd: 'wrfile', args: ['/srv/www/index.html', '<h1>hi</h1>'] })).toBe(true);
    expect(allowed(p, { ...deploy, cmd: 'exec', args: ['/usr/bin/tail', '-n', '100', '/var/log/nginx/error.log'] })).toBe(true);
    // What it may not do: the attacks measured against a root agent.
    expect(evaluate(p, req({ ...deploy, cmd: 'exec', args: ['id'] }))).toMatchObject({ allow: false, message: 'DENIED: rule deploy grants exec but not the program id' });
    expect(allowed(p, { ...deploy, cmd: 'exec', args: ['/usr/bin/systemctl', 'stop', 'sshd'] })).toBe(false);
    expect(allowed(p, { ...deploy, cmd: 'exec', args: ['/usr/bin/systemctl', 'restart', 'nginx.service'], opts: { shell: true } })).toBe(false);
    expect(allowed(p, { ...deploy, cmd: 'rdfile', args: ['/etc/shadow'] })).toBe(false);
    expect(allowed(p, { ...deploy, cmd: 'wrfile', args: ['~/.ssh/authorized_keys', 'ssh-ed25519 AAAA'] })).toBe(false);
    expect(allowed(p, { ...deploy, cmd: 'rm', args: ['/'], opts: { recursive: true } })).toBe(false);
    expect(allowed(p, { ...deploy, cmd: 'rm', args: ['/srv/www'], opts: { recursive: true } })).toBe(false);
    expect(allowed(p, { ...deploy, cmd: 'exec', args: ['/usr/bin/systemctl', 'reload', 'nginx.service'], ttlMs: 3_600_000 })).toBe(false);
    expect(evaluate(p, req({ ...deploy, cmd: 'exec', args: ['/usr/bin/systemctl', 'reload', 'nginx.service'], runningJobs: { total: 4, byRule: { deploy: 4 } } }))).toMatchObject({ code: 'BUSY' });
    // Not on other hosts, and not for the ops key.
    expect(allowed(p, { ...deploy, cmd: 'exec', args: ['/usr/bin/systemctl', 'reload', 'nginx.service'], labels: { role: 'db' } })).toBe(false);
    expect(evaluate(p, req({ kid: OPS, cmd: 'wrfile', args: ['/srv/www/x', 'y'] }))).toMatchObject({ message: 'DENIED: no rule grants key ops the command wrfile' });
    expect(allowed(p, { kid: OPS, cmd: 'rdfile', args: ['/var/log/nginx/access.log'] })).toBe(true);
    expect(allowed(p, { kid: undefined })).toBe(false);
  });

  it('lab machine: the lab key may do anything, signed', () => {
    const p = parsePolicy(JSON.parse(blocks[1]));
    expect(evaluate(p, req({ kid: OPS, cmd: 'exec', args: ['make -j2 && ./run-tests'], opts: { shell: true } }))).toMatchObject({ allow: true, runAs: { user: 'root' } });
    expect(allowed(p, { kid: OPS, cmd: 'rm', args: ['/tmp/build'], opts: { recursive: true } })).toBe(true);
    expect(allowed(p, { kid: OPS, cmd: 'rm', args: ['/'], opts: { recursive: true } })).toBe(false);
    expect(allowed(p, { kid: DEPLOY, cmd: 'ping' })).toBe(false);
    expect(allowed(p, { kid: undefined, cmd: 'ping' })).toBe(false);
  });

  it('read-only auditor: reads under its roots, changes nothing, runs nothing', () => {
    const p = parsePolicy(JSON.parse(blocks[2]));
    const a = { kid: AUDITOR };
    expect(allowed(p, { ...a, cmd: 'rdfile', args: ['/etc/nginx/nginx.conf'] })).toBe(true);
    expect(allowed(p, { ...a, cmd: 'ls', args: ['/var/log'] })).toBe(true);
    expect(allowed(p, { ...a, cmd: 'rdfile', args: ['/etc/shadow'] })).toBe(false);
    expect(allowed(p, { ...a, cmd: 'rdfile', args: ['/etc/nginx/../shadow'] })).toBe(false);
    expect(evaluate(p, req({ ...a, cmd: 'exec', args: ['id'] }))).toMatchObject({ message: 'DENIED: no rule grants key auditor the command exec' });
    expect(allowed(p, { ...a, cmd: 'wrfile', args: ['/var/log/x', 'y'] })).toBe(false);
    expect(allowed(p, { ...a, cmd: 'rm', args: ['/var/log/syslog'] })).toBe(false);
  });
});
