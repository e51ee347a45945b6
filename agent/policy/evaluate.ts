// The policy decision, pure: (policy, request) → allow with what the run must respect, or deny with
// a message naming the rule consulted or the grant that is missing. No I/O: symlinks are paths.ts's
// job once the command is allowed; here paths are checked as written (`..` and absolute escapes).
import * as path from 'node:path';
import { matchesSelector } from '../../protocol/selector.js';
import { ANY_KEY, FILE_COMMANDS, type CompiledRule, type Policy } from './schema.js';

export interface PolicyRequest {
  /** Key id of the verified signature; undefined for an unsigned command. */
  kid?: string;
  cmd: string;
  args: readonly unknown[];
  opts: Readonly<Record<string, unknown>>;
  /** The directory relative paths resolve against (the command's cwd, else the shell's). */
  cwd: string;
  /** Where `~` points (the agent user's home); without it a `~` path is denied. */
  home?: string;
  /** Effective TTL in ms (ttlMs, or the default when sentAt is set); undefined: never expires. */
  ttlMs?: number;
  host: string;
  labels: Readonly<Record<string, string>>;
  /** Jobs running now: all of them, and per rule name that admitted them. */
  runningJobs: { total: number; byRule: Readonly<Record<string, number>> };
}

export type Access = 'read' | 'write';

export interface Allow {
  allow: true;
  /** The rule that admitted the command; `(simple mode)` when the policy has no rules. */
  rule: string;
  /** exec only: who the program must run as. */
  runAs?: { user: string; group?: string };
  /** File commands: the realpath'd roots paths.ts must confine to; undefined means unconfined (simple mode). */
  roots?: { read: string[]; write: string[] };
  /** File commands: each path argument resolved against cwd, with the access it needs. */
  paths: { path: string; access: Access }[];
}

export interface Deny {
  allow: false;
  code: 'DENIED' | 'BUSY';
  message: string;
}

export type PolicyVerdict = Allow | Deny;

export const SIMPLE_MODE_RULE = '(simple mode)';

const deny = (message: string): Deny => ({ allow: false, code: 'DENIED', message: `DENIED: ${message}` });
const busy = (message: string): Deny => ({ allow: false, code: 'BUSY', message: `BUSY: ${message}` });

/** Whether `p` is `root` or below it, compared by whole path segments (`/srv/app2` is not in `/srv/app`). */
export function isInside(p: string, root: string): boolean {
  if (p === root) return true;
  return p.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
}

export function evaluate(policy: Policy, req: PolicyRequest): PolicyVerdict {
  const who = req.kid === undefined ? 'unsigned commands' : `key ${policy.keys.get(req.kid) ?? req.kid}`;
  if (req.kid === undefined && policy.requireSigned) return deny("unsigned command; this agent's policy requires signed commands");
  if (req.kid !== undefined && !policy.keys.has(req.kid)) return deny(`key ${req.kid} is not trusted by this agent's policy`);
  if (policy.maxJobs !== undefined && req.runningJobs.total >= policy.maxJobs) {
    return busy(`${req.runningJobs.total} jobs running; this agent's policy allows at most ${policy.maxJobs} at once`);
  }
  if (!policy.rules) {
    if (req.kid === undefined) return deny('simple mode admits trusted keys only; this command is unsigned');
    const paths = filePaths(req);
    return typeof paths === 'string' ? deny(paths) : { allow: true, rule: SIMPLE_MODE_RULE, paths };
  }
  const applicable = policy.rules.filter(
    (r) => (req.kid === undefined ? r.unsigned : r.kids.has(req.kid) || r.kids.has(ANY_KEY)) && (!r.hosts || matchesSelector(r.hosts, req.host, req.labels)),
  );
  if (applicable.length === 0) return deny(`no rule applies to ${who} on host ${req.host}`);
  const granting = applicable.filter((r) => !r.commands || r.commands.has(req.cmd));
  if (granting.length === 0) return deny(`no rule grants ${who} the command ${req.cmd}`);
  const refusals: Deny[] = [];
  for (const rule of granting) {
    const v = judgeRule(rule, req);
    if (v.allow) return v;
    refusals.push(v);
  }
  // BUSY only when every rule that would allow the command is merely full: retrying later can work.
  const code = refusals.every((r) => r.code === 'BUSY') ? 'BUSY' : 'DENIED';
  const reasons = refusals.filter((r) => r.code === code).map((r) => r.message.replace(/^(DENIED|BUSY): /, ''));
  return { allow: false, code, message: `${code}: ${reasons.join('; ')}` };
}

function judgeRule(rule: CompiledRule, req: PolicyRequest): PolicyVerdict {
  const r = `rule ${rule.name}`;
  if (rule.maxTtlMs !== undefined) {
    if (req.ttlMs === undefined) return deny(`${r} needs a TTL of at most ${rule.maxTtlMs} ms; this command has none (set sentAt and ttlMs)`);
    if (req.ttlMs > rule.maxTtlMs) return deny(`${r} accepts a TTL of at most ${rule.maxTtlMs} ms; this command asks for ${req.ttlMs} ms`);
  }
  let runAs: Allow['runAs'];
  if (req.cmd === 'exec') {
    const why = judgeExec(rule, req);
    if (why) return deny(`${r} ${why}`);
    runAs = { user: rule.exec!.user, group: rule.exec!.group };
  }
  const paths = filePaths(req);
  if (typeof paths === 'string') return deny(`${r}: ${paths}`);
  for (const p of paths) {
    const roots = p.access === 'write' ? rule.write : rule.read;
    if (roots.length === 0) return deny(`${r} grants ${req.cmd} but has no ${p.access} root`);
    if (!roots.some((root) => isInside(p.path, root))) return deny(`${r} lets ${req.cmd} ${p.access} only under ${roots.join(', ')}; not ${p.path}`);
    // Removing a root would remove the boundary itself (and everything granted under it).
    if (req.cmd === 'rm' && roots.includes(p.path)) return deny(`${r}: ${p.path} is a root itself; rm may remove only what is below it`);
  }
  if (rule.maxJobs !== undefined && (req.runningJobs.byRule[rule.name] ?? 0) >= rule.maxJobs) {
    return busy(`${r} allows at most ${rule.maxJobs} jobs at once and ${req.runningJobs.byRule[rule.name]} are running`);
  }
  const roots = paths.length ? { read: rule.realRead, write: rule.realWrite } : undefined;
  return { allow: true, rule: rule.name, runAs, roots, paths };
}

/** Why exec is refused under this rule, or undefined when it is allowed. */
function judgeExec(rule: CompiledRule, req: PolicyRequest): string | undefined {
  const grant = rule.exec;
  if (!grant) return 'grants every command but has no exec block, so no program';
  const env = req.opts.env;
  if (env !== undefined && env !== null && typeof env === 'object') {
    for (const k of Object.keys(env)) if (!grant.env.has(k)) return `does not let exec set the environment variable ${k}`;
  }
  const shell = req.opts.shell === true || req.opts.shell === 'true';
  if (shell) return grant.shell ? undefined : 'grants exec but not shell=true';
  const [program, ...args] = req.args.map((a) => (typeof a === 'string' || typeof a === 'number' || typeof a === 'boolean' ? String(a) : undefined));
  if (program === undefined || args.includes(undefined)) return 'cannot match exec arguments that are not strings';
  if (!grant.programs.some((g) => g.program === program)) return `grants exec but not the program ${program}`;
  const ok = grant.programs.some((g) => g.program === program && argsMatch(g, args as string[]));
  return ok ? undefined : `grants ${program} but not with the arguments ${JSON.stringify(args)}`;
}

function argsMatch(g: { args?: { test(s: string): boolean }[]; moreArgs: boolean }, args: string[]): boolean {
  if (!g.args) return true;
  if (args.length < g.args.length || (args.length > g.args.length && !g.moreArgs)) return false;
  return g.args.every((pat, i) => pat.test(args[i]));
}

/** The path arguments of a file command, resolved lexically; a string says why one is unusable. */
function filePaths(req: PolicyRequest): { path: string; access: Access }[] | string {
  if (!Object.hasOwn(FILE_COMMANDS, req.cmd)) return [];
  const access = FILE_COMMANDS[req.cmd as keyof typeof FILE_COMMANDS];
  const fallback = req.cmd === 'ls' ? '.' : req.cmd === 'cd' ? '~' : undefined;
  const raw = req.args[0] ?? fallback;
  if (typeof raw !== 'string' && typeof raw !== 'number') return `${req.cmd} needs a path`;
  const p = String(raw);
  if (p.includes('\0')) return 'a path must not contain NUL';
  let resolved: string;
  if (p === '~' || p.startsWith('~/')) {
    if (!req.home) return `${p}: ~ is not available here`;
    resolved = path.resolve(req.home, p.slice(2));
  } else {
    resolved = path.resolve(req.cwd, p);
  }
  return [{ path: resolved, access }];
}
