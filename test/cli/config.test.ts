// The one config story: flags > env > config file > defaults, validated once; bad settings are one
// line naming the source and the field, never a stack trace; --print-config masks secrets.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, ensureBuilt, ROOT, runCli } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'cp-config-'));
const file = (name: string, content: unknown): string => {
  const p = join(dir, name);
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content));
  return p;
};

async function printConfig(args: string[], env: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const r = await runCli(['agent', ...args, '--print-config'], { env: cleanEnv(env) });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

async function failure(args: string[], env: Record<string, string> = {}): Promise<string> {
  const r = await runCli(args, { env: cleanEnv(env) });
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  return r.stderr.trim();
}

beforeAll(() => ensureBuilt());
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('precedence: flag > env > config file > default', () => {
  const cfg = file('layers.json', { broker: 'mqtt://from-file:1883', agent: { name: 'file-name', keepaliveSec: 11, labels: { role: 'file' } } });

  it('uses defaults when nothing is set', async () => {
    const c = await printConfig([]);
    expect(c.broker).toEqual(['mqtt://127.0.0.1:1883']);
    expect(c.keepaliveSec).toBe(30);
    expect(c.labels).toEqual({});
    // Per agent name, so two agents on one host never share state by default.
    expect(c.stateDir).toMatch(new RegExp(`conplyent/${c.name}$`));
  });

  it('takes the config file over defaults, with paths relative to the file', async () => {
    const c = await printConfig(['--config', cfg]);
    expect(c).toMatchObject({ broker: ['mqtt://from-file:1883'], name: 'file-name', keepaliveSec: 11, labels: { role: 'file' }, configFile: cfg });
  });

  it('takes env over the config file, and CONPLYENT_CONFIG names the file', async () => {
    const c = await printConfig([], { CONPLYENT_CONFIG: cfg, CONPLYENT_BROKER: 'mqtt://from-env:1883', CONPLYENT_LABELS: 'role=env,dc=x' });
    expect(c).toMatchObject({ broker: ['mqtt://from-env:1883'], name: 'file-name', keepaliveSec: 11, labels: { role: 'env', dc: 'x' } });
  });

  it('takes flags over env and the config file', async () => {
    const c = await printConfig(['--config', cfg, '--broker', 'mqtt://from-flag:1883', '--keepalive', '7', '--label', 'role=flag', '--label', 'tier=1'], {
      CONPLYENT_BROKER: 'mqtt://from-env:1883',
      CONPLYENT_KEEPALIVE: '9',
    });
    expect(c).toMatchObject({ broker: ['mqtt://from-flag:1883'], keepaliveSec: 7, labels: { role: 'flag', tier: '1' }, name: 'file-name' });
  });

  it('resolves relative plugin paths in the config file against the file', async () => {
    const p = file('plugins.json', { agent: { plugins: ['./plug.js', 'some-package'] } });
    const c = await printConfig(['--config', p]);
    expect(c.plugins).toEqual([join(dir, 'plug.js'), 'some-package']);
  });
});

describe('secrets', () => {
  it('masks the password in --print-config and never prints it', async () => {
    const pw = file('pw', 'hunter2-secret\n');
    const c = await printConfig(['--password-file', pw, '--username', 'web-1']);
    expect(c.password).toBe('***');
    expect(c.passwordFile).toBe(pw);
    const env = await runCli(['agent', '--print-config'], { env: cleanEnv({ CONPLYENT_PASSWORD: 'hunter2-secret' }) });
    expect(env.stdout).toContain('"password": "***"');
    expect(env.stdout).not.toContain('hunter2');
  });

  it('refuses a plain password in the config file and says what to use', async () => {
    const p = file('plain.json', { password: 'x' });
    expect(await failure(['agent', '--config', p, '--print-config'])).toBe(`conplyent: config file ${p}: password: not allowed; use "passwordFile" or env CONPLYENT_PASSWORD`);
  });

  it('names the flag when the password file cannot be read', async () => {
    expect(await failure(['agent', '--password-file', join(dir, 'missing'), '--print-config'])).toMatch(/^conplyent: flag --password-file: cannot read .*missing \(ENOENT\)$/);
  });
});

describe('invalid config is one clear line naming source and field', () => {
  it('bad JSON', async () => {
    const p = file('bad.json', '{"broker": ');
    expect(await failure(['agent', '--config', p, '--dry-run'])).toMatch(new RegExp(`^conplyent: config file ${p}: invalid JSON`));
  });

  it('wrong type in the file', async () => {
    const p = file('type.json', { agent: { keepaliveSec: 'soon' } });
    expect(await failure(['agent', '--config', p, '--dry-run'])).toBe(`conplyent: config file ${p}: agent.keepaliveSec: expected number, received string`);
  });

  it('unknown field in the file', async () => {
    const p = file('unknown.json', { agent: { keepalive: 3 } });
    expect(await failure(['agent', '--config', p, '--dry-run'])).toBe(`conplyent: config file ${p}: agent.keepalive: unknown field`);
  });

  it('bad label in a flag, in env and in the file', async () => {
    expect(await failure(['agent', '--label', 'role', '--dry-run'])).toMatch(/^conplyent: flag --label: label "role" must be key=value/);
    expect(await failure(['agent', '--dry-run'], { CONPLYENT_LABELS: 'ok=1,bad key=2' })).toMatch(/^conplyent: env CONPLYENT_LABELS: label "bad key=2"/);
    const p = file('label.json', { agent: { labels: { role: 'a/b' } } });
    expect(await failure(['agent', '--config', p, '--dry-run'])).toMatch(new RegExp(`^conplyent: config file ${p}: agent.labels: label "role=a/b"`));
  });

  it('bad numbers and URLs in flags and env', async () => {
    expect(await failure(['agent', '--keepalive', 'x', '--dry-run'])).toBe('conplyent: flag --keepalive: expected a non-negative number, got "x"');
    expect(await failure(['agent', '--dry-run'], { CONPLYENT_BROKER: 'http://x' })).toMatch(/^conplyent: env CONPLYENT_BROKER: expected a URL/);
    expect(await failure(['agent', '--name', 'bad/name', '--dry-run'])).toMatch(/^conplyent: flag --name: expected a host name/);
    expect(await failure(['broker', '--port', '70000', '--dry-run'])).toMatch(/^conplyent: flag --port: Too big/);
  });

  it('a reconnect maximum below the minimum, with the agent library\'s own rule', async () => {
    expect(await failure(['agent', '--reconnect-min-ms', '2000', '--reconnect-max-ms', '1000', '--dry-run'])).toBe('conplyent: flag --reconnect-min-ms: must not exceed reconnectMaxMs');
    expect(await printConfig(['--reconnect-min-ms', '60000'])).toMatchObject({ reconnectMinMs: 60_000, reconnectMaxMs: 60_000 });
  });

  it('a missing config file', async () => {
    expect(await failure(['agent', '--dry-run'], { CONPLYENT_CONFIG: join(dir, 'nope.json') })).toBe(`conplyent: config file ${join(dir, 'nope.json')}: cannot read (ENOENT)`);
  });
});

describe('docs/config.md', () => {
  it('its example config file is valid', async () => {
    const md = readFileSync(join(ROOT, 'docs/config.md'), 'utf8');
    const json = /```json\n([\s\S]*?)```/.exec(md)![1]!;
    const { loadConfigFile } = await import('../../cli/config-file.js');
    await expect(loadConfigFile(file('example.json', json))).resolves.toMatchObject({ agent: { name: 'web-1' } });
  });
});

describe('dry run', () => {
  it('agent --dry-run validates, says what would run and exits 0', async () => {
    const r = await runCli(['agent', '--dry-run', '--name', 'web-1', '--broker', 'mqtt://b.example:1883'], { env: cleanEnv() });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^would start agent "web-1" connecting to mqtt:\/\/b.example:1883\n/);
  });
});
