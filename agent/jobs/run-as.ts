// Who a program runs as under a policy's exec grant. Node has no getpwnam, so names are looked up
// in /etc/passwd and /etc/group (what NSS "files" reads; users only in LDAP need a numeric uid in
// the policy). libuv's spawn calls setgroups(0) before setgid/setuid when uid or gid is given, so
// the child keeps none of root's supplementary groups.
import { readFileSync } from 'node:fs';
import { CommandError } from '../registry.js';

export interface Identity {
  uid: number;
  gid: number;
  /** HOME, USER and LOGNAME of that user, so programs do not write into root's home. */
  env: Record<string, string>;
}

function entries(file: string): string[][] {
  try {
    return readFileSync(file, 'utf8').split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(':'));
  } catch {
    return [];
  }
}

function lookupUser(user: string): { name: string; uid: number; gid: number; home: string } {
  const byNumber = /^\d+$/.test(user);
  const row = entries('/etc/passwd').find((f) => (byNumber ? f[2] === user : f[0] === user));
  if (row) return { name: row[0], uid: Number(row[2]), gid: Number(row[3]), home: row[5] || '/' };
  if (byNumber) return { name: user, uid: Number(user), gid: Number(user), home: '/' };
  throw new CommandError('DENIED', `DENIED: the policy runs exec as user ${user}, who does not exist on this host`);
}

function lookupGroup(group: string): number {
  if (/^\d+$/.test(group)) return Number(group);
  const row = entries('/etc/group').find((f) => f[0] === group);
  if (!row) throw new CommandError('DENIED', `DENIED: the policy runs exec with group ${group}, which does not exist on this host`);
  return Number(row[2]);
}

/**
 * The uid/gid to spawn with, or undefined when the agent already is that user. An agent that is
 * not root cannot switch: the command is refused rather than run as the wrong user.
 */
export function identityFor(runAs: { user: string; group?: string }): Identity | undefined {
  const u = lookupUser(runAs.user);
  const gid = runAs.group !== undefined ? lookupGroup(runAs.group) : u.gid;
  const me = process.getuid?.();
  if (me === undefined) throw new CommandError('DENIED', `DENIED: this platform cannot run programs as another user (${runAs.user})`);
  if (me === u.uid && process.getgid?.() === gid) return undefined;
  if (me !== 0) throw new CommandError('DENIED', `DENIED: the policy runs exec as ${runAs.user}, but the agent runs as uid ${me}, not root, and cannot switch users`);
  return { uid: u.uid, gid, env: { HOME: u.home, USER: u.name, LOGNAME: u.name } };
}
