// The agent's own policy file (JSON): which keys may run what, where, as whom. Parsed once at the
// edge into a compiled Policy that evaluate.ts trusts. With a policy the agent denies by default:
// Salt CVE-2020-11651 was a dispatcher that ran whatever was not explicitly hidden.
import * as path from 'node:path';
import { z } from 'zod';
import { lazySchema } from '../../protocol/lazy-schema.js';
import { compileGlob, parseSelector, type GlobPattern, type Selector } from '../../protocol/selector.js';
import { MAX_TTL_MS } from '../../protocol/limits.js';
import { keyIdOf } from '../../protocol/keys.js';

/** Commands whose first argument is a path, and the access each needs (put/get ride on wrfile/rdfile). */
export const FILE_COMMANDS = {
  rdfile: 'read',
  hash: 'read',
  ls: 'read',
  cd: 'read',
  wrfile: 'write',
  rm: 'write',
  touch: 'write',
  mkdir: 'write',
} as const satisfies Record<string, 'read' | 'write'>;
export type FileCommand = keyof typeof FILE_COMMANDS;

/** In a rule's keys: any key listed in `keys`, or commands that carry no signature at all. */
export const ANY_KEY = '*';
export const UNSIGNED = 'unsigned';

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const USER_RE = /^(?:[A-Za-z_][A-Za-z0-9_.-]{0,31}\$?|\d{1,10})$/;
const ENV_RE = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

const name = (what: string) => z.string({ error: `${what} must be a string` }).regex(NAME_RE, `${what} must match [A-Za-z0-9][A-Za-z0-9_.-]{0,63}`);
const absPath = lazySchema(() => z
  .string({ error: 'a root must be a string' })
  .max(4096)
  .refine((p) => path.isAbsolute(p) && !p.includes('\0'), 'a root must be an absolute path')
  .transform((p) => path.resolve(p)));
const positive = (what: string, max = Number.MAX_SAFE_INTEGER) =>
  z.number({ error: `${what} must be a number` }).int(`${what} must be an integer`).positive(`${what} must be at least 1`).max(max, `${what} must be at most ${max}`);

const ProgramSchema = lazySchema(() => z
  .object({
    /** An absolute path, or a bare name the agent looks up in its own PATH. */
    program: z
      .string({ error: 'program must be a string' })
      .min(1)
      .max(4096)
      .refine((p) => !p.includes('\0') && (path.isAbsolute(p) || !p.includes('/')), 'program must be an absolute path or a bare name without /'),
    /** One glob per argument (`*` any run, `?` one character); omitted: any arguments. */
    args: z.array(z.string().max(1024)).max(64).optional(),
    /** With args: further arguments past the patterns are allowed too. */
    moreArgs: z.boolean().optional(),
  })
  .strict());

const ExecSchema = lazySchema(() => z
  .object({
    programs: z.array(ProgramSchema).max(256).default([]),
    /** shell=true runs a whole command line: it grants anything the user below can do. */
    shell: z.boolean().default(false),
    /** Environment names a command may set (opts.env); none by default, since LD_PRELOAD or PATH turn an allowed program into any program. */
    env: z.array(z.string().regex(ENV_RE, 'env names are letters, digits and _')).max(256).default([]),
    /** Who the program runs as; the agent drops to this user when it runs as root. Required: no silent root. */
    user: z.string({ error: 'exec.user is required (the user programs run as; write "root" if you mean it)' }).regex(USER_RE, 'exec.user must be a user name or a numeric uid'),
    group: z.string().regex(USER_RE, 'exec.group must be a group name or a numeric gid').optional(),
  })
  .strict());

const FilesSchema = lazySchema(() => z
  .object({
    read: z.array(absPath).max(64).default([]),
    /** Write roots are readable too. */
    write: z.array(absPath).max(64).default([]),
  })
  .strict());

const RuleSchema = lazySchema(() => z
  .object({
    name: name('rule name'),
    keys: z.array(z.string().max(64)).min(1, 'a rule must name at least one key').max(256),
    hosts: z.string().max(1024).optional(),
    commands: z.array(z.string().min(1).max(64)).min(1, 'a rule must grant at least one command ("*" for all)').max(256),
    exec: ExecSchema.optional(),
    files: FilesSchema.optional(),
    maxJobs: positive('maxJobs', 100_000).optional(),
    maxTtlMs: positive('maxTtlMs', MAX_TTL_MS).optional(),
  })
  .strict());

export const PolicyFileSchema = lazySchema(() => z
  .object({
    version: z.literal(1, { error: 'version must be 1' }).optional(),
    /** Unsigned commands are refused unless this is false (and then only rules naming "unsigned" apply). */
    requireSigned: z.boolean().default(true),
    keys: z.record(z.string().regex(NAME_RE, 'key names must match [A-Za-z0-9][A-Za-z0-9_.-]{0,63}'), z.string().max(64)).default({}),
    /** The most jobs running at once on this agent, whatever rule admitted them. */
    maxJobs: positive('maxJobs', 100_000).optional(),
    /** Absent: simple mode, any trusted key may do anything. */
    rules: z.array(RuleSchema).max(1024).optional(),
  })
  .strict());

export type PolicyFile = z.output<typeof PolicyFileSchema>;

export interface CompiledProgram {
  program: string;
  args?: GlobPattern[];
  moreArgs: boolean;
}

export interface CompiledRule {
  name: string;
  /** Key ids this rule applies to; ANY_KEY for every trusted key. */
  kids: ReadonlySet<string>;
  unsigned: boolean;
  hosts?: Selector;
  /** undefined: every command. */
  commands?: ReadonlySet<string>;
  exec?: { programs: CompiledProgram[]; shell: boolean; env: ReadonlySet<string>; user: string; group?: string };
  /** Roots as written plus their realpaths, for the lexical check; reads include the write roots. */
  read: string[];
  write: string[];
  /** Roots after realpath (loader.ts resolves them), for paths.ts's check after resolving symlinks. */
  realRead: string[];
  realWrite: string[];
  maxJobs?: number;
  maxTtlMs?: number;
}

export interface Policy {
  requireSigned: boolean;
  /** Trusted key id → its name in the file (used in messages). */
  keys: ReadonlyMap<string, string>;
  /** Keys written as public keys, by key id: the agent verifies signatures with them (a key given by id needs --trusted-key too). */
  publicKeys: ReadonlyMap<string, string>;
  maxJobs?: number;
  /** undefined: simple mode. */
  rules?: CompiledRule[];
}

/** A policy file that does not validate; the message is one line naming the field. */
export class PolicyError extends Error {
  override name = 'PolicyError';
  readonly code = 'POLICY_INVALID';
}

/** Validates a parsed policy file and compiles it; throws PolicyError naming the first bad field. */
export function parsePolicy(input: unknown): Policy {
  const parsed = PolicyFileSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue.path.map(String).join('.');
    const msg = issue.code === 'unrecognized_keys' ? `unknown field ${issue.keys.join(', ')}` : issue.message.replace(/^Invalid input: /, '');
    throw new PolicyError(where ? `${where}: ${msg}` : msg);
  }
  return compile(parsed.data);
}

function compile(file: PolicyFile): Policy {
  const keys = new Map<string, string>();
  const publicKeys = new Map<string, string>();
  const byName = new Map<string, string>();
  for (const [keyName, ref] of Object.entries(file.keys)) {
    const kid = keyIdOf(ref);
    if (!kid) throw new PolicyError(`keys.${keyName}: not a public key (base64 of 32 bytes) or a key id (16 base64url characters)`);
    if (keys.has(kid)) throw new PolicyError(`keys.${keyName}: the same key as keys.${keys.get(kid)}`);
    keys.set(kid, keyName);
    if (kid !== ref.trim()) publicKeys.set(kid, ref.trim());
    byName.set(keyName, kid);
  }
  if (!file.rules && keys.size === 0) throw new PolicyError('a policy needs keys (simple mode: any of them may do anything) or rules');
  if (!file.rules) return { requireSigned: file.requireSigned, keys, publicKeys, maxJobs: file.maxJobs };
  const seen = new Set<string>();
  const rules = file.rules.map((r, i) => {
    const at = `rules.${i} (${r.name})`;
    if (seen.has(r.name)) throw new PolicyError(`${at}: another rule has this name`);
    seen.add(r.name);
    return compileRule(r, at, byName, keys, file.requireSigned);
  });
  return { requireSigned: file.requireSigned, keys, publicKeys, maxJobs: file.maxJobs, rules };
}

type RuleFile = NonNullable<PolicyFile['rules']>[number];

function compileRule(r: RuleFile, at: string, byName: Map<string, string>, keys: Map<string, string>, requireSigned: boolean): CompiledRule {
  const kids = new Set<string>();
  let unsigned = false;
  for (const ref of r.keys) {
    if (ref === UNSIGNED) {
      if (requireSigned) throw new PolicyError(`${at}.keys: "unsigned" can never match while requireSigned is true`);
      unsigned = true;
      continue;
    }
    const kid = ref === ANY_KEY ? ANY_KEY : (byName.get(ref) ?? keyIdOf(ref));
    if (!kid || (kid !== ANY_KEY && !keys.has(kid))) throw new PolicyError(`${at}.keys: "${ref}" is not a key listed in keys (by name, id or public key)`);
    kids.add(kid);
  }
  let hosts: Selector | undefined;
  if (r.hosts !== undefined) {
    try {
      hosts = parseSelector(r.hosts);
    } catch (e) {
      throw new PolicyError(`${at}.hosts: ${(e as Error).message}`);
    }
  }
  const all = r.commands.includes('*');
  const commands = all ? undefined : new Set(r.commands);
  if (commands?.has('exec') && !r.exec) throw new PolicyError(`${at}: grants exec but has no exec block (programs and user)`);
  if (r.exec && commands && !commands.has('exec')) throw new PolicyError(`${at}: has an exec block but does not grant exec`);
  for (const cmd of commands ?? []) {
    if (!Object.hasOwn(FILE_COMMANDS, cmd)) continue;
    const access = FILE_COMMANDS[cmd as keyof typeof FILE_COMMANDS];
    const roots = access === 'write' ? r.files?.write : [...(r.files?.read ?? []), ...(r.files?.write ?? [])];
    if (!roots?.length) throw new PolicyError(`${at}: grants ${cmd} but files has no ${access} root`);
  }
  const exec = r.exec && {
    programs: r.exec.programs.map((p, j) => {
      try {
        return { program: p.program, args: p.args?.map(compileGlob), moreArgs: p.moreArgs ?? false };
      } catch (e) {
        throw new PolicyError(`${at}.exec.programs.${j}.args: ${(e as Error).message}`);
      }
    }),
    shell: r.exec.shell,
    env: new Set(r.exec.env),
    user: r.exec.user,
    group: r.exec.group,
  };
  const write = r.files?.write ?? [];
  const read = [...new Set([...(r.files?.read ?? []), ...write])];
  return { name: r.name, kids, unsigned, hosts, commands, exec, read, write, realRead: read, realWrite: write, maxJobs: r.maxJobs, maxTtlMs: r.maxTtlMs };
}
