// The systemd unit of `conplyent agent install`, built by a pure function so its text is tested exactly.
// The password never appears on ExecStart (world-readable via `ps` and `systemctl show`): only a
// --password-file reference, or an EnvironmentFile that install writes with mode 0600.
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { AgentConfig } from './config.js';
import { defaultOf } from '../link/settings.js';
import { agentSectionSchema } from './config-fields.js';

export type Scope = 'user' | 'system';

export const UNIT_NAME = 'conplyent-agent.service';

export interface UnitSpec {
  scope: Scope;
  /** Absolute path of node, then of dist/cli/main.js (or a single `conplyent` found on PATH). */
  command: string[];
  /** Arguments after `agent`, from agentArgs(). */
  args: string[];
  name: string;
  /** EnvironmentFile holding CONPLYENT_PASSWORD (mode 0600), when the password came from env. */
  environmentFile?: string;
}

/** Where the unit file and the environment file live for a scope. */
export function unitPaths(scope: Scope, home = homedir()): { unit: string; envFile: string } {
  return scope === 'system'
    ? { unit: join('/etc/systemd/system', UNIT_NAME), envFile: '/etc/conplyent/agent.env' }
    : { unit: join(home, '.config/systemd/user', UNIT_NAME), envFile: join(home, '.config/conplyent/agent.env') };
}

/** Quotes one ExecStart word per systemd.syntax(7): `%` and `$` are specifiers and must be doubled. */
export function quoteExecArg(arg: string): string {
  const escaped = arg.replace(/%/g, '%%').replace(/\$/g, '$$$$');
  if (escaped.length > 0 && /^[A-Za-z0-9_@%+=:,./-]+$/.test(escaped)) return escaped;
  return `"${escaped.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** The flags that reproduce an agent config; defaults are left out so the unit stays readable. */
export function agentArgs(cfg: AgentConfig): string[] {
  const a: string[] = ['--broker', cfg.broker, '--name', cfg.name];
  for (const [k, v] of Object.entries(cfg.labels)) a.push('--label', `${k}=${v}`);
  a.push('--state-dir', cfg.stateDir);
  if (cfg.username) a.push('--username', cfg.username);
  if (cfg.passwordFile) a.push('--password-file', cfg.passwordFile);
  if (cfg.ca) a.push('--ca', cfg.ca);
  if (cfg.cert) a.push('--cert', cfg.cert);
  if (cfg.key) a.push('--key', cfg.key);
  if (cfg.insecure) a.push('--insecure');
  const numeric: [keyof AgentConfig, string][] = [
    ['keepaliveSec', '--keepalive'],
    ['reconnectMinMs', '--reconnect-min-ms'],
    ['reconnectMaxMs', '--reconnect-max-ms'],
    ['spoolMemoryBytes', '--spool-memory-bytes'],
    ['spoolDiskBytes', '--spool-disk-bytes'],
    ['replayRetentionMs', '--replay-retention-ms'],
    ['clockSkewMs', '--clock-skew-ms'],
    ['maxJobs', '--max-jobs'],
  ];
  for (const [key, flag] of numeric) if (cfg[key] !== defaultOf(agentSectionSchema, key)) a.push(flag, String(cfg[key]));
  for (const p of cfg.plugins) a.push('--plugin', p);
  if (cfg.policyFile) a.push('--policy', cfg.policyFile);
  if (cfg.requireSigned) a.push('--require-signed');
  for (const k of cfg.trustedKeys) a.push('--trusted-key', k);
  if (cfg.keyFile) a.push('--signing-key', cfg.keyFile);
  if (cfg.logLevel !== 'info') a.push('--log-level', cfg.logLevel);
  return a;
}

/** The unit file text. Restart=always brings a crashed agent back; the install section brings it up at boot. */
export function buildUnit(spec: UnitSpec): string {
  const exec = [...spec.command, 'agent', ...spec.args].map(quoteExecArg).join(' ');
  const lines = [
    '[Unit]',
    `Description=conplyent agent ${spec.name}`,
    'After=network-online.target',
    'Wants=network-online.target',
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${exec}`,
    'Restart=always',
    'RestartSec=2',
  ];
  if (spec.environmentFile) lines.push(`EnvironmentFile=${spec.environmentFile}`);
  lines.push('', '[Install]', `WantedBy=${spec.scope === 'system' ? 'multi-user.target' : 'default.target'}`, '');
  return lines.join('\n');
}

/** What to do where systemd is absent: start the same command at boot by the platform's own means. */
export function noSystemdHint(platform: NodeJS.Platform, commandLine: string): string {
  const intro = 'systemd is not running here, so no unit was installed. Start the agent at boot another way:';
  if (platform === 'darwin') {
    return `${intro}\n  launchd: a ~/Library/LaunchAgents/org.conplyent.agent.plist with ProgramArguments = ${commandLine}, RunAtLoad and KeepAlive true, then \`launchctl load\` it.`;
  }
  if (platform === 'win32') {
    return `${intro}\n  Task Scheduler: schtasks /Create /SC ONSTART /RU SYSTEM /TN conplyent-agent /TR "${commandLine}"`;
  }
  return `${intro}\n  crontab -e, then add:  @reboot ${commandLine}\n  (or a unit for your init system; \`conplyent agent install --print\` shows the systemd one to adapt)`;
}
