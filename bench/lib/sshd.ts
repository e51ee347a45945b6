// A throwaway sshd on 127.0.0.1 for the ssh baselines: its own host key, client key, authorized_keys
// and config in a temp dir; nothing of the machine's own ssh setup is read or changed.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { accepts, freePort } from './brokers.js';
import { sleep } from './stats.js';

export const SSHD = '/usr/sbin/sshd';
export const SSH = '/usr/bin/ssh';
export const PSSH = '/usr/bin/parallel-ssh';

export interface Sshd {
  port: number;
  user: string;
  /** ssh options that reach this sshd with the throwaway key and no host-key prompts. */
  sshArgs: string[];
  /** The same as `-O key=value` pairs for parallel-ssh. */
  psshOpts: string[];
  stop(): Promise<void>;
}

/** Why the ssh baselines cannot run here, or undefined when they can. */
export function sshMissing(needPssh: boolean): string | undefined {
  if (!existsSync(SSHD)) return `sshd not installed (${SSHD} missing; Debian package openssh-server)`;
  if (!existsSync(SSH)) return `ssh not installed (${SSH} missing)`;
  if (needPssh && !existsSync(PSSH)) return `parallel-ssh not installed (${PSSH} missing; Debian package pssh)`;
  // sshd refuses to start without its privilege-separation directory (normally made by the service unit).
  if (!existsSync('/run/sshd')) {
    try {
      mkdirSync('/run/sshd', { mode: 0o755, recursive: true });
    } catch {
      return 'sshd needs /run/sshd, which is missing and cannot be created by this user';
    }
  }
  return undefined;
}

export async function startSshd(dir: string): Promise<Sshd> {
  // Start clean: ssh-keygen refuses to overwrite a key an earlier (failed) attempt left in `dir`.
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const hostKey = join(dir, 'host_ed25519');
  const clientKey = join(dir, 'client_ed25519');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey], { stdio: 'ignore' });
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', clientKey], { stdio: 'ignore' });
  const authorized = join(dir, 'authorized_keys');
  execFileSync('cp', [`${clientKey}.pub`, authorized]);
  const user = userInfo().username;
  for (let attempt = 0; attempt < 4; attempt++) {
    const port = await freePort();
    const conf = join(dir, 'sshd_config');
    writeFileSync(
      conf,
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${hostKey}`,
        `AuthorizedKeysFile ${authorized}`,
        `PidFile ${join(dir, 'sshd.pid')}`,
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PubkeyAuthentication yes',
        'PermitRootLogin prohibit-password',
        'UsePAM no',
        'UseDNS no',
        // The temp dir lives under /tmp (world-writable): strict modes would refuse our key file.
        'StrictModes no',
        // 50 simultaneous logins must not be throttled: that would measure sshd's guard, not ssh.
        'MaxStartups 100:30:200',
        'MaxSessions 100',
        'LogLevel ERROR',
      ].join('\n') + '\n',
    );
    const child: ChildProcess = spawn(SSHD, ['-D', '-e', '-f', conf], { stdio: 'ignore' });
    let exited = false;
    child.once('exit', () => (exited = true));
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && !exited && !(await accepts(port))) await sleep(25);
    if (exited) continue;
    const opts: Record<string, string> = {
      Port: String(port),
      IdentityFile: clientKey,
      IdentitiesOnly: 'yes',
      StrictHostKeyChecking: 'no',
      UserKnownHostsFile: '/dev/null',
      LogLevel: 'ERROR',
      BatchMode: 'yes',
    };
    return {
      port,
      user,
      sshArgs: Object.entries(opts).flatMap(([k, v]) => ['-o', `${k}=${v}`]),
      psshOpts: Object.entries(opts).flatMap(([k, v]) => ['-O', `${k}=${v}`]),
      stop: async () => {
        if (exited) return;
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([gone, sleep(5_000)]);
        if (!exited) child.kill('SIGKILL');
      },
    };
  }
  throw new Error('sshd did not start');
}
