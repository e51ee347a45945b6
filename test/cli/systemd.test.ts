// `conplyent agent install`: the unit text for a set of flags, exactly; the password is only ever
// referenced (never on ExecStart); without systemd it explains the alternative and fails.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quoteExecArg } from '../../cli/systemd.js';
import { cleanEnv, ensureBuilt, MAIN, runCli } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'cp-systemd-'));
const pwFile = join(dir, 'agent.pw');
const stateDir = join(dir, 'state');

beforeAll(() => {
  ensureBuilt();
  writeFileSync(pwFile, 'not-on-the-command-line\n', { mode: 0o600 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('agent install --print', () => {
  it('prints the exact unit for the given flags, password by file reference', async () => {
    const args = ['agent', 'install', '--print', '--system', '--broker', 'mqtts://broker.lan:8883', '--name', 'web-1', '--label', 'role=web', '--label', 'dc=fra1', '--state-dir', stateDir, '--username', 'web-1', '--password-file', pwFile, '--keepalive', '10'];
    const r = await runCli(args, { env: cleanEnv() });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        '[Unit]',
        'Description=conplyent agent web-1',
        'After=network-online.target',
        'Wants=network-online.target',
        '',
        '[Service]',
        'Type=simple',
        `ExecStart=${process.execPath} ${MAIN} agent --broker mqtts://broker.lan:8883 --name web-1 --label role=web --label dc=fra1 --state-dir ${stateDir} --username web-1 --password-file ${pwFile} --keepalive 10`,
        'Restart=always',
        'RestartSec=2',
        '',
        '[Install]',
        'WantedBy=multi-user.target',
        '',
      ].join('\n'),
    );
    expect(r.stdout).not.toContain('not-on-the-command-line');
  });

  it('a user unit is wanted by default.target', async () => {
    const r = await runCli(['agent', 'install', '--print', '--user', '--name', 'laptop', '--state-dir', stateDir], { env: cleanEnv() });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('\nWantedBy=default.target\n');
    expect(r.stdout).toContain(' agent --broker mqtt://127.0.0.1:1883 --name laptop --state-dir ');
  });

  it('a password from env goes to an EnvironmentFile, never onto ExecStart', async () => {
    const env = cleanEnv({ CONPLYENT_PASSWORD: 'env-secret-value' });
    const r = await runCli(['agent', 'install', '--print', '--user', '--name', 'web-2', '--username', 'web-2', '--state-dir', stateDir], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('env-secret-value');
    expect(r.stdout).toContain(`\nEnvironmentFile=${join(env.HOME!, '.config/conplyent/agent.env')}\n`);
    expect(r.stdout).not.toMatch(/ExecStart=.*password/);
  });

  it('refuses --user together with --system', async () => {
    const r = await runCli(['agent', 'install', '--print', '--user', '--system'], { env: cleanEnv() });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('conplyent: flags --user and --system: choose one');
  });
});

describe.skipIf(existsSync('/run/systemd/system'))('agent install without systemd', () => {
  it('says what to do instead and exits non-zero', async () => {
    const r = await runCli(['agent', 'install', '--name', 'web-1', '--state-dir', stateDir], { env: cleanEnv() });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('systemd is not running here');
    expect(r.stderr).toContain(`@reboot ${process.execPath} ${MAIN} agent --broker mqtt://127.0.0.1:1883 --name web-1`);
  });
});

describe('ExecStart quoting (systemd.syntax)', () => {
  it('leaves plain words alone and quotes or escapes the rest', () => {
    expect(quoteExecArg('--label')).toBe('--label');
    expect(quoteExecArg('/opt/my dir/main.js')).toBe('"/opt/my dir/main.js"');
    expect(quoteExecArg('100%')).toBe('100%%');
    expect(quoteExecArg('$HOME')).toBe('"$$HOME"');
    expect(quoteExecArg('a"b')).toBe('"a\\"b"');
    expect(quoteExecArg('')).toBe('""');
  });
});
