// The verdict on one received payload, in the order the contract fixes: decode -> verify ->
// target -> dedupe -> time -> state doubt -> lookup -> arguments -> policy and job cap -> run [cp-dispatch-*]
// [cp-sig-5]. Pure: it never throws and changes nothing; the agent acts on the verdict.
import { resolve as resolvePath } from 'node:path';
import {
  DEFAULT_TTL_MS,
  checkData,
  newJobId,
  decodeCommand,
  formatIssues,
  matchesSelector,
  parseSelector,
  parseTopic,
  verifyCommand,
  type Command,
  type ErrorCode,
  type SignatureErrorCode,
  type TrustedKeys,
} from '../../protocol/index.js';
import { IMMEDIATE } from '../jobs/immediate.js';
import { evaluate } from '../policy/evaluate.js';
import type { Policy } from '../policy/schema.js';
import type { CommandDef, Grant } from '../registry.js';

export type Verdict =
  | { kind: 'ignore' } // a fleet command for other hosts, or not a command topic
  | { kind: 'notice'; error: ErrorCode; message: string } // no readable id: goes to the errors topic
  // [cp-sig-5] a signature refusal: errors topic only, id not recorded as seen
  | { kind: 'forged'; error: SignatureErrorCode; message: string; id?: string; cmd: string; kid?: string; from?: string; args: unknown[]; opts: unknown }
  | { kind: 'duplicate'; id: string }
  | { kind: 'reject'; id: string; cmd: string; args: unknown[]; opts?: unknown; error: ErrorCode; message: string; kid?: string; from?: string }
  | { kind: 'run'; id: string; command: Command; def: CommandDef; args: unknown[]; opts: unknown; kid?: string; grant?: Grant };

export type RejectVerdict = Extract<Verdict, { kind: 'reject' }>;
export type RunVerdict = Extract<Verdict, { kind: 'run' }>;
export type ForgedVerdict = Extract<Verdict, { kind: 'forged' }>;

/** Jobs running now, in all and per policy rule that admitted them. */
export interface RunningJobs {
  total: number;
  byRule: Readonly<Record<string, number>>;
}

/** What signatures this agent checks: trusted keys (none: nothing is verified) and whether unsigned commands are refused. */
export interface Trust {
  keys: TrustedKeys;
  requireSigned: boolean;
}

/** What judge() needs to know about the agent; injected, so tests can pass a plain object. */
export interface JudgeEnv {
  host: string;
  labels: Record<string, string>;
  clockSkewMs: number;
  lookup(name: string): CommandDef | undefined;
  known(): string[];
  hasSeen(id: string): boolean;
  now(): number;
  /** Omitted: nothing is verified (an agent of before signatures). */
  trust?(): Trust;
  /** The policy in force; undefined: no policy. */
  policy?(): Policy | undefined;
  /** Jobs running now; with maxJobs, the agent's own cap (job control is exempt). */
  running?(): RunningJobs;
  maxJobs?: number;
  /** The current directory of a session (or the shared one) and the agent user's home, against which policy paths resolve [cp-env-12]. */
  cwd?(session?: string): string;
  home?: string;
  /** Why a command that passed dedupe and time checks still cannot run (state damaged or unavailable) [cp-state-1]. */
  doubt?(command: Command): { error: ErrorCode; message: string } | undefined;
}

export function judge(env: JudgeEnv, topic: string, payload: Buffer): Verdict {
  const t = parseTopic(topic);
  if (!t || (t.kind !== 'cmd' && t.kind !== 'fleetCmd')) return { kind: 'ignore' };
  if (t.kind === 'cmd' && t.host !== env.host) return { kind: 'ignore' };
  const decoded = decodeCommand(payload);
  if (!decoded.ok) {
    if (!decoded.id) return { kind: 'notice', error: decoded.error, message: decoded.message };
    if (env.hasSeen(decoded.id)) return { kind: 'duplicate', id: decoded.id };
    return { kind: 'reject', id: decoded.id, cmd: '', args: [], error: decoded.error, message: decoded.message };
  }
  const command = decoded.value;
  // [cp-sig-5] verify before anything else acts on the command: a forgery must neither be deduped,
  // nor record its (copied) id as seen, nor get an event on the genuine job's topic.
  let kid: string | undefined;
  const trust = env.trust?.();
  if (trust && (trust.requireSigned || (trust.keys.size > 0 && command.sig))) {
    const v = verifyCommand(command, topic, trust.keys);
    if (!v.ok && (v.error !== 'UNSIGNED' || trust.requireSigned)) {
      return { kind: 'forged', error: v.error, message: v.message, id: command.id, cmd: command.cmd, kid: command.sig?.kid, from: command.from, args: command.args, opts: command.opts };
    }
    if (v.ok) kid = v.kid;
  }
  if (t.kind === 'fleetCmd') {
    // [cp-fleet-1] a fleet command without a target is refused, never run everywhere by accident.
    if (!command.target) return rejectOrNotice(env, command, 'BAD_TARGET', 'a command on the fleet topic needs a target (a host, web-*, role=web or all)', kid);
    let selected: boolean;
    try {
      selected = matchesSelector(parseSelector(command.target), env.host, env.labels);
    } catch (e) {
      return rejectOrNotice(env, command, 'BAD_TARGET', (e as Error).message, kid);
    }
    if (!selected) return { kind: 'ignore' };
  }
  // [cp-cmdframe-4] a frame's header, the part a signature covers, vouches for its bytes: other
  // bytes are refused as a forgery is, so a copy with its genuine header cannot burn the id.
  // After the target check: a host the frame does not select never hashes its bytes.
  let given = command.args;
  if (decoded.data) {
    const d = checkData(command.data!, decoded.data);
    if (!d.ok) return { kind: 'forged', error: 'BAD_DATA', message: d.message, id: command.id, cmd: command.cmd, kid: kid ?? command.sig?.kid, from: command.from, args: command.args, opts: command.opts };
    given = [...command.args, d.value];
  }
  const id = command.id ?? newJobId();
  if (env.hasSeen(id)) return { kind: 'duplicate', id };
  const base = { kind: 'reject' as const, id, cmd: command.cmd, args: given, opts: command.opts, kid, from: command.from };
  if (command.sentAt !== undefined) {
    const now = env.now();
    if (command.sentAt > now + env.clockSkewMs) {
      return { ...base, error: 'CLOCK_SKEW', message: `sentAt is ${command.sentAt - now} ms in the future; allowed clock skew is ${env.clockSkewMs} ms` };
    }
    const ttl = command.ttlMs ?? DEFAULT_TTL_MS;
    if (now > command.sentAt + ttl + env.clockSkewMs) {
      return { ...base, error: 'EXPIRED', message: `expired: sent ${now - command.sentAt} ms ago, TTL ${ttl} ms (+${env.clockSkewMs} ms skew allowance); not run` };
    }
  }
  // [cp-state-1] [cp-state-2] after journal damage, only a command provably newer runs.
  const doubt = env.doubt?.(command);
  if (doubt) return { ...base, ...doubt };
  const def = env.lookup(command.cmd);
  if (!def) return { ...base, error: 'UNKNOWN_COMMAND', message: `unknown command "${command.cmd}"; this agent knows: ${env.known().join(', ')}` };
  const args = def.args.safeParse(given);
  if (!args.success) return { ...base, error: 'BAD_ARGS', message: `${def.name}: ${formatIssues(args.error)}${def.usage ? `; usage: ${def.name} ${def.usage}` : ''}` };
  const opts = def.opts.safeParse(command.opts);
  if (!opts.success) return { ...base, error: 'BAD_ARGS', message: `${def.name} options: ${formatIssues(opts.error)}${def.usage ? `; usage: ${def.name} ${def.usage}` : ''}` };
  const running = env.running?.() ?? { total: 0, byRule: {} };
  let grant: Grant | undefined;
  const policy = env.policy?.();
  if (policy) {
    // The policy judges the validated values (shell="true" is already true), against the cwd as it
    // is now; file handlers check their real paths again when they run (a `cd` may come between).
    const shellCwd = env.cwd?.(command.session) ?? process.cwd();
    const v = evaluate(policy, {
      kid,
      cmd: def.name,
      args: args.data as unknown[],
      opts: (opts.data ?? {}) as Record<string, unknown>,
      cwd: command.cwd ? resolvePath(shellCwd, command.cwd) : shellCwd,
      home: env.home,
      ttlMs: command.sentAt !== undefined ? (command.ttlMs ?? DEFAULT_TTL_MS) : undefined,
      host: env.host,
      labels: env.labels,
      runningJobs: running,
    });
    if (!v.allow) return { ...base, error: v.code, message: v.message };
    grant = { rule: v.rule, roots: v.roots, runAs: v.runAs };
  }
  // The agent's own cap holds with or without a policy: 1,000 `exec sleep 1000` must not all start.
  // Job control (kill, jobs…) is exempt, or a full agent could not be told to stop anything.
  if (env.maxJobs !== undefined && !IMMEDIATE.has(def.name) && running.total >= env.maxJobs) {
    return { ...base, error: 'BUSY', message: `BUSY: ${running.total} jobs running; this agent runs at most ${env.maxJobs} at once (--max-jobs)` };
  }
  return { kind: 'run', id, command, def, args: args.data as unknown[], opts: opts.data, kid, grant };
}

function rejectOrNotice(env: JudgeEnv, command: Command, error: ErrorCode, message: string, kid: string | undefined): Verdict {
  if (!command.id) return { kind: 'notice', error, message };
  if (env.hasSeen(command.id)) return { kind: 'duplicate', id: command.id };
  return { kind: 'reject', id: command.id, cmd: command.cmd, args: command.args, opts: command.opts, error, message, kid, from: command.from };
}
