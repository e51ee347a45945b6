// Every verdict of the pure policy decision, including the attacks measured against a root agent.
import { describe, expect, it } from 'vitest';
import { evaluate, type PolicyRequest } from '../../../agent/policy/evaluate.js';
import { parsePolicy, PolicyError } from '../../../agent/policy/schema.js';
import { keyIdOf } from '../../../protocol/keys.js';
import { newKey } from './keys.js';

const ops = newKey();
const ro = newKey();
const stranger = newKey();

const policy = parsePolicy({
  keys: { ops: ops.pub, 'ops-ro': ro.kid },
  maxJobs: 50,
  rules: [
    {
      name: 'readers',
      keys: ['ops-ro', 'ops'],
      commands: ['ping', 'ls', 'rdfile', 'hash', 'cd'],
      files: { read: ['/var/log', '/srv/app'] },
    },
    {
      name: 'deploy',
      keys: ['ops'],
      hosts: 'role=web',
      commands: ['exec', 'wrfile', 'rm', 'mkdir', 'touch', 'kill'],
      exec: {
        programs: [
          { program: '/usr/bin/systemctl', args: ['restart', 'nginx*'] },
          { program: 'git', args: ['-C', '/srv/app', '*'], moreArgs: true },
        ],
        env: ['GIT_SSH_COMMAND'],
        user: 'www-data',
        group: 'www-data',
      },
      files: { write: ['/srv/app'] },
      maxJobs: 2,
      maxTtlMs: 60_000,
    },
  ],
});

function req(over: Partial<PolicyRequest>): PolicyRequest {
  return { kid: ops.kid, cmd: 'ping', args: [], opts: {}, cwd: '/srv/app', home: '/root', ttlMs: 30_000, host: 'web-1', labels: { role: 'web' }, runningJobs: { total: 0, byRule: {} }, ...over };
}

describe('policy evaluate: who', () => {
  it('denies an unsigned command when signatures are required', () => {
    expect(evaluate(policy, req({ kid: undefined }))).toEqual({ allow: false, code: 'DENIED', message: "DENIED: unsigned command; this agent's policy requires signed commands" });
  });

  it('denies a key the policy does not list (CVE-2020-11651: no dispatch without authorization)', () => {
    const v = evaluate(policy, req({ kid: stranger.kid }));
    expect(v).toMatchObject({ allow: false, code: 'DENIED', message: `DENIED: key ${stranger.kid} is not trusted by this agent's policy` });
  });

  it('names the key and the command when no rule grants it', () => {
    const v = evaluate(policy, req({ kid: ro.kid, cmd: 'rm', args: ['/srv/app/x'] }));
    expect(v).toEqual({ allow: false, code: 'DENIED', message: 'DENIED: no rule grants key ops-ro the command rm' });
  });

  it('a rule limited to some hosts does not apply elsewhere', () => {
    const v = evaluate(policy, req({ cmd: 'exec', args: ['/usr/bin/systemctl', 'restart', 'nginx'], labels: { role: 'db' } }));
    expect(v).toMatchObject({ allow: false, message: 'DENIED: no rule grants key ops the command exec' });
  });

  it('prototype names are commands like any other: denied, never looked up', () => {
    for (const cmd of ['__proto__', 'constructor', 'toString']) {
      expect(evaluate(policy, req({ cmd }))).toMatchObject({ allow: false, message: `DENIED: no rule grants key ops the command ${cmd}` });
    }
  });
});

describe('policy evaluate: exec', () => {
  it('allows a granted program with matching arguments and says who it runs as', () => {
    const v = evaluate(policy, req({ cmd: 'exec', args: ['/usr/bin/systemctl', 'restart', 'nginx.service'] }));
    expect(v).toEqual({ allow: true, rule: 'deploy', runAs: { user: 'www-data', group: 'www-data' }, roots: undefined, paths: [] });
  });

  it('denies `exec id` (a program not granted), naming the rule', () => {
    expect(evaluate(policy, req({ cmd: 'exec', args: ['id'] }))).toMatchObject({ allow: false, code: 'DENIED', message: 'DENIED: rule deploy grants exec but not the program id' });
  });

  it('denies granted programs with other arguments, and extra arguments unless moreArgs', () => {
    expect(evaluate(policy, req({ cmd: 'exec', args: ['/usr/bin/systemctl', 'stop', 'nginx'] }))).toMatchObject({ allow: false, message: expect.stringContaining('grants /usr/bin/systemctl but not with the arguments ["stop","nginx"]') });
    expect(evaluate(policy, req({ cmd: 'exec', args: ['/usr/bin/systemctl', 'restart', 'nginx', 'sshd'] })).allow).toBe(false);
    expect(evaluate(policy, req({ cmd: 'exec', args: ['git', '-C', '/srv/app', 'pull', '--ff-only'] })).allow).toBe(true);
    expect(evaluate(policy, req({ cmd: 'exec', args: ['git', '-C', '/etc', 'pull'] })).allow).toBe(false);
  });

  it('a bare name grant does not admit a path, nor a path a bare name', () => {
    expect(evaluate(policy, req({ cmd: 'exec', args: ['/tmp/git', '-C', '/srv/app', 'pull'] })).allow).toBe(false);
    expect(evaluate(policy, req({ cmd: 'exec', args: ['systemctl', 'restart', 'nginx'] })).allow).toBe(false);
  });

  it('denies shell=true unless granted, and environment names not listed (PATH, LD_PRELOAD)', () => {
    expect(evaluate(policy, req({ cmd: 'exec', args: ['/usr/bin/systemctl', 'restart', 'nginx'], opts: { shell: true } }))).toMatchObject({ message: 'DENIED: rule deploy grants exec but not shell=true' });
    expect(evaluate(policy, req({ cmd: 'exec', args: ['git', '-C', '/srv/app', 'pull'], opts: { env: { LD_PRELOAD: '/tmp/x.so' } } }))).toMatchObject({ message: 'DENIED: rule deploy does not let exec set the environment variable LD_PRELOAD' });
    expect(evaluate(policy, req({ cmd: 'exec', args: ['git', '-C', '/srv/app', 'pull'], opts: { env: { GIT_SSH_COMMAND: 'ssh -i k' } } })).allow).toBe(true);
  });

  it('argument globs match in linear time: 60 stars against a long argument answer at once', () => {
    const p = parsePolicy({ keys: { ops: ops.pub }, rules: [{ name: 'g', keys: ['ops'], commands: ['exec'], exec: { programs: [{ program: 'echo', args: ['*'.repeat(60) + 'Z'] }], user: 'nobody' } }] });
    expect(evaluate(p, req({ cmd: 'exec', args: ['echo', 'a'.repeat(1000)] })).allow).toBe(false);
  });

  it('caps jobs per rule with BUSY, and across the agent', () => {
    const exec = { cmd: 'exec', args: ['/usr/bin/systemctl', 'restart', 'nginx'] };
    expect(evaluate(policy, req({ ...exec, runningJobs: { total: 2, byRule: { deploy: 2 } } }))).toEqual({ allow: false, code: 'BUSY', message: 'BUSY: rule deploy allows at most 2 jobs at once and 2 are running' });
    expect(evaluate(policy, req({ ...exec, runningJobs: { total: 50, byRule: {} } }))).toMatchObject({ code: 'BUSY', message: "BUSY: 50 jobs running; this agent's policy allows at most 50 at once" });
  });

  it('refuses a TTL longer than the rule accepts, or none at all', () => {
    const exec = { cmd: 'exec', args: ['/usr/bin/systemctl', 'restart', 'nginx'] };
    expect(evaluate(policy, req({ ...exec, ttlMs: 120_000 }))).toMatchObject({ message: 'DENIED: rule deploy accepts a TTL of at most 60000 ms; this command asks for 120000 ms' });
    expect(evaluate(policy, req({ ...exec, ttlMs: undefined }))).toMatchObject({ message: expect.stringContaining('has none') });
  });
});

describe('policy evaluate: files', () => {
  it('rdfile /etc/shadow is denied; a file under a read root is allowed with the roots to confine to', () => {
    expect(evaluate(policy, req({ cmd: 'rdfile', args: ['/etc/shadow'] }))).toMatchObject({ allow: false, message: 'DENIED: rule readers lets rdfile read only under /var/log, /srv/app; not /etc/shadow' });
    expect(evaluate(policy, req({ cmd: 'rdfile', args: ['/var/log/syslog'] }))).toEqual({
      allow: true,
      rule: 'readers',
      runAs: undefined,
      roots: { read: ['/var/log', '/srv/app'], write: [] },
      paths: [{ path: '/var/log/syslog', access: 'read' }],
    });
  });

  it('relative paths resolve against cwd; `..` escapes and sibling prefixes are denied', () => {
    expect(evaluate(policy, req({ cmd: 'rdfile', args: ['../../etc/shadow'] })).allow).toBe(false);
    expect(evaluate(policy, req({ cmd: 'rdfile', args: ['/srv/app2/secret'] })).allow).toBe(false);
    expect(evaluate(policy, req({ cmd: 'ls' })).allow).toBe(true); // '.' is /srv/app
    expect(evaluate(policy, req({ cmd: 'cd' })).allow).toBe(false); // '~' is /root
  });

  it('wrfile into ~/.ssh/authorized_keys is denied; writes under the write root are allowed', () => {
    expect(evaluate(policy, req({ cmd: 'wrfile', args: ['~/.ssh/authorized_keys', 'ssh-ed25519 AAAA'] }))).toMatchObject({ message: 'DENIED: rule deploy lets wrfile write only under /srv/app; not /root/.ssh/authorized_keys' });
    expect(evaluate(policy, req({ cmd: 'wrfile', args: ['/srv/app/index.html', 'hi'] })).allow).toBe(true);
  });

  it('rm recursive outside the root is denied, and so is removing the root itself', () => {
    expect(evaluate(policy, req({ cmd: 'rm', args: ['/etc'], opts: { recursive: true } })).allow).toBe(false);
    expect(evaluate(policy, req({ cmd: 'rm', args: ['/srv/app'], opts: { recursive: true } }))).toMatchObject({ message: 'DENIED: rule deploy: /srv/app is a root itself; rm may remove only what is below it' });
    expect(evaluate(policy, req({ cmd: 'rm', args: ['/srv/app/old'], opts: { recursive: true } })).allow).toBe(true);
  });

  it('a NUL in a path is denied', () => {
    expect(evaluate(policy, req({ cmd: 'rdfile', args: ['/var/log/x\0/../../etc/shadow'] }))).toMatchObject({ message: 'DENIED: rule readers: a path must not contain NUL' });
  });
});

describe('policy evaluate: simple mode and unsigned rules', () => {
  it('with keys and no rules any trusted key may do anything, unconfined', () => {
    const simple = parsePolicy({ keys: { ops: ops.pub } });
    expect(evaluate(simple, req({ cmd: 'exec', args: ['id'] }))).toEqual({ allow: true, rule: '(simple mode)', paths: [] });
    expect(evaluate(simple, req({ kid: ro.kid })).allow).toBe(false);
  });

  it('unsigned commands match only rules naming "unsigned", and only when signatures are optional', () => {
    const p = parsePolicy({ requireSigned: false, rules: [{ name: 'anon', keys: ['unsigned'], commands: ['ping'] }] });
    expect(evaluate(p, req({ kid: undefined })).allow).toBe(true);
    expect(evaluate(p, req({ kid: undefined, cmd: 'os_info' }))).toMatchObject({ message: 'DENIED: no rule grants unsigned commands the command os_info' });
    expect(() => parsePolicy({ rules: [{ name: 'anon', keys: ['unsigned'], commands: ['ping'] }] })).toThrow('"unsigned" can never match while requireSigned is true');
  });

  it('"*" grants every command, but exec still needs an exec block and files a root', () => {
    const p = parsePolicy({ keys: { ops: ops.pub }, rules: [{ name: 'all', keys: ['*'], commands: ['*'] }] });
    expect(evaluate(p, req({ cmd: 'os_info' })).allow).toBe(true);
    expect(evaluate(p, req({ cmd: 'exec', args: ['id'] }))).toMatchObject({ message: 'DENIED: rule all grants every command but has no exec block, so no program' });
    expect(evaluate(p, req({ cmd: 'rdfile', args: ['/etc/shadow'] }))).toMatchObject({ message: 'DENIED: rule all grants rdfile but has no read root' });
  });
});

describe('policy schema', () => {
  const bad: [unknown, string][] = [
    [{}, 'a policy needs keys'],
    [{ keys: { ops: 'nope' } }, 'keys.ops: not a public key'],
    [{ keys: { ops: ops.pub }, extra: 1 }, 'unknown field extra'],
    [{ keys: { ops: ops.pub }, rules: [{ name: 'r', keys: ['ghost'], commands: ['ping'] }] }, 'rules.0 (r).keys: "ghost" is not a key listed in keys'],
    [{ keys: { ops: ops.pub }, rules: [{ name: 'r', keys: ['ops'], commands: ['exec'] }] }, 'grants exec but has no exec block'],
    [{ keys: { ops: ops.pub }, rules: [{ name: 'r', keys: ['ops'], commands: ['exec'], exec: { programs: [] } }] }, 'rules.0.exec.user: exec.user is required'],
    [{ keys: { ops: ops.pub }, rules: [{ name: 'r', keys: ['ops'], commands: ['rm'], files: { read: ['/srv'] } }] }, 'grants rm but files has no write root'],
    [{ keys: { ops: ops.pub }, rules: [{ name: 'r', keys: ['ops'], commands: ['ls'], files: { read: ['srv'] } }] }, 'rules.0.files.read.0: a root must be an absolute path'],
    [{ keys: { ops: ops.pub }, rules: [{ name: 'r', keys: ['ops'], hosts: 'a b', commands: ['ping'] }] }, 'rules.0 (r).hosts: target term "a b" is not a valid host name'],
    [{ keys: { ops: ops.pub }, rules: [{ name: 'r', keys: ['ops'], commands: ['exec'], exec: { programs: [{ program: 'bin/sh' }], user: 'x' } }] }, 'program must be an absolute path or a bare name'],
    [{ keys: { a: ops.pub, b: ops.kid } }, 'keys.b: the same key as keys.a'],
  ];
  it.each(bad)('rejects %j with a one-line message', (input, message) => {
    let err: unknown;
    try {
      parsePolicy(input);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PolicyError);
    expect((err as Error).message).toContain(message);
    expect((err as Error).message).not.toContain('\n');
  });

  it('a key id is the first 16 characters of base64url(SHA-256(raw key))', () => {
    expect(keyIdOf(ops.pub)).toBe(ops.kid);
    expect(keyIdOf(ops.kid)).toBe(ops.kid);
    expect(keyIdOf(Buffer.alloc(31).toString('base64'))).toBeUndefined();
  });
});
