// `conplyent agent install|uninstall`: writes the systemd unit built by systemd.ts and enables it.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Command } from 'commander';
import { addAgentOptions } from './agent.js';
import { addConnectionOptions, ConfigError, printConfig, resolveConfig } from './config.js';
import { agentArgs, buildUnit, noSystemdHint, quoteExecArg, unitPaths, UNIT_NAME, type Scope } from './systemd.js';

const run = promisify(execFile);

/** The absolute command that starts this CLI: this node binary and this main.js. */
export function selfCommand(): string[] {
  return [process.execPath, resolve(dirname(fileURLToPath(import.meta.url)), 'main.js')];
}

function systemdPresent(): boolean {
  const onPath = (process.env.PATH ?? '').split(':').some((d) => d && existsSync(join(d, 'systemctl')));
  return onPath && existsSync('/run/systemd/system');
}

function scopeOf(opts: { user?: boolean; system?: boolean }): Scope {
  if (opts.user && opts.system) throw new ConfigError('flags --user and --system: choose one');
  if (opts.user) return 'user';
  if (opts.system) return 'system';
  return process.getuid?.() === 0 ? 'system' : 'user';
}

async function systemctl(scope: Scope, ...args: string[]): Promise<void> {
  const full = scope === 'user' ? ['--user', ...args] : args;
  try {
    await run('systemctl', full);
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`systemctl ${full.join(' ')} failed: ${(e.stderr || e.message).trim()}`);
  }
}

export function registerInstall(agentCmd: Command): void {
  const install = agentCmd
    .command('install')
    .description('install the agent as a systemd service that starts at boot and restarts when it dies')
    .option('--user', 'a user service (~/.config/systemd/user); default when not root')
    .option('--system', 'a system service (/etc/systemd/system); default as root')
    .option('--print', 'print the unit file and exit without installing');
  addAgentOptions(addConnectionOptions(install))
    .addHelpText(
      'after',
      `
The password is never written on ExecStart: pass --password-file (referenced by path), or set
CONPLYENT_PASSWORD and install writes it to an EnvironmentFile with mode 0600.

Examples:
  conplyent agent install --print --broker mqtt://broker.lan:1883 --name web-1 --label role=web
  sudo conplyent agent install --system --broker mqtts://broker.lan:8883 --username web-1 --password-file /etc/conplyent/pw
  conplyent agent install --user && loginctl enable-linger $USER`,
    )
    .action(async (_o: unknown, self: Command) => {
      const opts = self.opts();
      const scope = scopeOf(opts);
      const cfg = await resolveConfig('agent', opts);
      if (opts.printConfig) {
        process.stdout.write(printConfig(cfg) + '\n');
        return;
      }
      const paths = unitPaths(scope);
      // A password that came from env has no file to reference: write one only the service user can read.
      const envFile = cfg.password !== undefined && !cfg.passwordFile ? paths.envFile : undefined;
      const command = selfCommand();
      const args = agentArgs(cfg);
      const unit = buildUnit({ scope, command, args, name: cfg.name, environmentFile: envFile });
      if (opts.print) {
        process.stdout.write(unit);
        return;
      }
      if (!systemdPresent()) {
        process.stderr.write(noSystemdHint(process.platform, [...command, 'agent', ...args].map(quoteExecArg).join(' ')) + '\n');
        process.exitCode = 1;
        return;
      }
      if (envFile) {
        await mkdir(dirname(envFile), { recursive: true, mode: 0o700 });
        await writeFile(envFile, `CONPLYENT_PASSWORD=${cfg.password}\n`, { mode: 0o600 });
        await chmod(envFile, 0o600);
      }
      await mkdir(dirname(paths.unit), { recursive: true });
      await writeFile(paths.unit, unit, { mode: 0o644 });
      await systemctl(scope, 'daemon-reload');
      await systemctl(scope, 'enable', '--now', UNIT_NAME);
      const flag = scope === 'user' ? ' --user' : '';
      process.stdout.write(
        `installed ${paths.unit} and started it\n  status: systemctl${flag} status ${UNIT_NAME}\n  logs:   journalctl${flag} -u ${UNIT_NAME} -f\n` +
          (scope === 'user' ? '  to start it at boot without a login: loginctl enable-linger $USER\n' : ''),
      );
    });

  agentCmd
    .command('uninstall')
    .description('stop, disable and remove the systemd service installed by `agent install`')
    .option('--user', 'the user service')
    .option('--system', 'the system service')
    .addHelpText('after', '\nExamples:\n  sudo conplyent agent uninstall --system\n  conplyent agent uninstall --user')
    .action(async (_o: unknown, self: Command) => {
      const scope = scopeOf(self.opts());
      if (!systemdPresent()) {
        process.stderr.write('systemd is not running here; remove the @reboot/launchd/Task Scheduler entry you created instead.\n');
        process.exitCode = 1;
        return;
      }
      const paths = unitPaths(scope);
      await systemctl(scope, 'disable', '--now', UNIT_NAME).catch(() => undefined);
      await rm(paths.unit, { force: true });
      await rm(paths.envFile, { force: true });
      await systemctl(scope, 'daemon-reload');
      process.stdout.write(`removed ${paths.unit}\n`);
    });
}
