// One template for Mosquitto's config and ACL: deploy/ ships its output for production paths, and the
// tests generate per-test files from it (test/broker/deploy.test.ts checks the two never drift).
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_MAX_PACKET_BYTES, DEFAULT_MAX_QUEUED_MESSAGES, DEFAULT_MAX_UNSENT_BYTES } from '../../broker/options.js';

export type Role = 'agent' | 'controller' | 'observer';
export interface MosquittoUser {
  username: string;
  password: string;
  role: Role;
}

export interface ConfParams {
  /** Listener port; 1883 in production. */
  port: number;
  /** Listener address; omitted in production (all interfaces). */
  bindAddress?: string;
  /** Absent: anonymous clients allowed (tests without auth only). */
  passwordFile?: string;
  aclFile?: string;
  /**
   * With a password file: a second listener for controllers only (their own password file), where
   * client ids are free. On the main listener every client id is the user name.
   */
  controllerPort?: number;
  controllerPasswordFile?: string;
  /** Directory for mosquitto.db; absent: no persistence. */
  persistenceDir?: string;
  /** `user` directive: who Mosquitto runs as after dropping root. */
  runAs?: string;
  logDest?: string;
}

/** Same bound as the embedded broker's default maxPacketBytes (broker/options.ts). */
export const MAX_PACKET_BYTES = DEFAULT_MAX_PACKET_BYTES;
/** Same bound as the embedded broker's default maxConnections (broker/options.ts), per listener. */
export const MAX_CONNECTIONS = 10_000;
/** Same bound as the embedded broker's default maxUnsentBytes (broker/options.ts). */
export const MAX_UNSENT_BYTES = DEFAULT_MAX_UNSENT_BYTES;

/** The mosquitto.conf lines for these parameters. */
export function mosquittoConf(p: ConfParams): string {
  const listen = (port: number) => (p.bindAddress ? `listener ${port} ${p.bindAddress}` : `listener ${port}`);
  const lines = [
    '# Generated from test/helpers/mosquitto.ts (mosquittoConf) — conplyent broker settings for Mosquitto 2.x.',
    `per_listener_settings ${p.passwordFile ? 'true' : 'false'}`,
    '# Nagle adds 40-90 ms per round trip to small MQTT packets; this turns it off per socket.',
    'set_tcp_nodelay true',
    '# Same limit as the embedded broker: a larger packet disconnects its sender only.',
    `max_packet_size ${MAX_PACKET_BYTES}`,
    '# Offline persistent sessions (a controller waiting for results) may queue this many QoS 1 messages.',
    `max_queued_messages ${DEFAULT_MAX_QUEUED_MESSAGES}`,
    '# Per-client bound on queued bytes, same as the embedded broker\'s maxUnsentBytes: a subscriber that',
    '# stops reading loses messages past it instead of holding the broker\'s memory.',
    `max_queued_bytes ${MAX_UNSENT_BYTES}`,
    '# Sessions of hosts gone this long are dropped (command TTLs are at most 24 h anyway).',
    'persistent_client_expiration 14d',
    '',
    listen(p.port),
    'protocol mqtt',
    `max_connections ${MAX_CONNECTIONS}`,
  ];
  if (p.passwordFile) {
    lines.push(
      '# Every client id on this listener is its user name: a second connection with an id disconnects the',
      '# first (and a clean one wipes its session), so a free choice would let any user knock an agent off.',
      'use_username_as_clientid true',
      'allow_anonymous false',
      `password_file ${p.passwordFile}`,
    );
    if (p.aclFile) lines.push(`acl_file ${p.aclFile}`);
    if (p.controllerPort !== undefined && p.controllerPasswordFile) {
      lines.push(
        '',
        '# Controllers only (their own password file): client ids are free here, so one controller user can',
        '# run many sessions. A controller can already run any command on any host; taking an id gains it nothing.',
        listen(p.controllerPort),
        'protocol mqtt',
        `max_connections ${MAX_CONNECTIONS}`,
        'allow_anonymous false',
        `password_file ${p.controllerPasswordFile}`,
      );
      if (p.aclFile) lines.push(`acl_file ${p.aclFile}`);
    }
  } else {
    lines.push('allow_anonymous true');
  }
  lines.push('');
  if (p.persistenceDir) {
    lines.push(
      '# Sessions, queued QoS 1 commands and retained presence survive a restart. Mosquitto writes its',
      '# database on clean shutdown and every autosave_interval seconds.',
      'persistence true',
      `persistence_location ${p.persistenceDir.endsWith('/') ? p.persistenceDir : p.persistenceDir + '/'}`,
      'autosave_interval 60',
    );
  }
  if (p.runAs) lines.push(`user ${p.runAs}`);
  lines.push(`log_dest ${p.logDest ?? 'stdout'}`, 'log_type error', 'log_type warning', 'log_type notice', 'log_type information');
  return lines.join('\n') + '\n';
}

/**
 * The ACL: agents by pattern (user name == host name), controllers and observers one block each.
 * Mosquitto applies pattern lines to every user, so controller and observer names should not be
 * possible host names (deploy/README.md says so).
 */
export function mosquittoAcl(users: readonly { username: string; role: Role }[]): string {
  const lines = [
    '# Generated from test/helpers/mosquitto.ts (mosquittoAcl) — the roles of the embedded broker (broker/acl.ts).',
    '# No lines before the first `user`: anonymous clients get nothing.',
    '#',
    '# agent: its user name is its host name (%u). Own commands and the fleet topic in, its own events',
    '# and presence out; it also reads its own status to repair a late Will.',
    'pattern read conplyent/%u/cmd',
    'pattern read conplyent/_all/cmd',
    'pattern readwrite conplyent/%u/status',
    'pattern write conplyent/%u/job/+',
    'pattern write conplyent/%u/errors',
  ];
  for (const u of users) {
    if (u.role === 'agent') continue;
    lines.push('', `user ${u.username}`);
    if (u.role === 'controller') lines.push('topic write conplyent/+/cmd');
    lines.push('topic read conplyent/#');
  }
  return lines.join('\n') + '\n';
}

/**
 * Writes passwd (everyone), passwd-controllers (controllers only, for the controller listener; hashed
 * by mosquitto_passwd itself) and acl files into `dir`; returns their paths.
 */
export function writeAuthFiles(dir: string, users: readonly MosquittoUser[]): { passwordFile: string; controllerPasswordFile: string; aclFile: string } {
  const passwordFile = join(dir, 'passwd');
  const controllerPasswordFile = join(dir, 'passwd-controllers');
  const aclFile = join(dir, 'acl');
  for (const f of [passwordFile, controllerPasswordFile]) writeFileSync(f, '', { mode: 0o600 });
  for (const u of users) {
    execFileSync('mosquitto_passwd', ['-b', passwordFile, u.username, u.password], { stdio: 'pipe' });
    if (u.role === 'controller') execFileSync('mosquitto_passwd', ['-b', controllerPasswordFile, u.username, u.password], { stdio: 'pipe' });
  }
  writeFileSync(aclFile, mosquittoAcl(users), { mode: 0o600 });
  return { passwordFile, controllerPasswordFile, aclFile };
}
