// The verdict on one received payload, in the order the contract fixes:
// decode -> target -> dedupe -> TTL -> lookup -> arguments -> run [cp-dispatch-*]. Pure: it never
// throws and changes nothing; the agent acts on the verdict.
import { DEFAULT_TTL_MS, newJobId, decodeCommand, formatIssues, matchesSelector, parseSelector, parseTopic, type Command, type ErrorCode } from '../../protocol/index.js';
import type { CommandDef } from '../registry.js';

export type Verdict =
  | { kind: 'ignore' } // a fleet command for other hosts, or not a command topic
  | { kind: 'notice'; error: ErrorCode; message: string } // no readable id: goes to the errors topic
  | { kind: 'duplicate'; id: string }
  | { kind: 'reject'; id: string; cmd: string; args: unknown[]; error: ErrorCode; message: string }
  | { kind: 'run'; id: string; command: Command; def: CommandDef; args: unknown[]; opts: unknown };

export type RejectVerdict = Extract<Verdict, { kind: 'reject' }>;
export type RunVerdict = Extract<Verdict, { kind: 'run' }>;

/** What judge() needs to know about the agent; injected, so tests can pass a plain object. */
export interface JudgeEnv {
  host: string;
  labels: Record<string, string>;
  clockSkewMs: number;
  lookup(name: string): CommandDef | undefined;
  known(): string[];
  hasSeen(id: string): boolean;
  now(): number;
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
  if (t.kind === 'fleetCmd') {
    // [cp-fleet-1] a fleet command without a target is refused, never run everywhere by accident.
    if (!command.target) return rejectOrNotice(env, command, 'BAD_TARGET', 'a command on the fleet topic needs a target (a host, web-*, role=web or all)');
    let selected: boolean;
    try {
      selected = matchesSelector(parseSelector(command.target), env.host, env.labels);
    } catch (e) {
      return rejectOrNotice(env, command, 'BAD_TARGET', (e as Error).message);
    }
    if (!selected) return { kind: 'ignore' };
  }
  const id = command.id ?? newJobId();
  if (env.hasSeen(id)) return { kind: 'duplicate', id };
  const base = { kind: 'reject' as const, id, cmd: command.cmd, args: command.args };
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
  const args = def.args.safeParse(command.args);
  if (!args.success) return { ...base, error: 'BAD_ARGS', message: `${def.name}: ${formatIssues(args.error)}${def.usage ? `; usage: ${def.name} ${def.usage}` : ''}` };
  const opts = def.opts.safeParse(command.opts);
  if (!opts.success) return { ...base, error: 'BAD_ARGS', message: `${def.name} options: ${formatIssues(opts.error)}${def.usage ? `; usage: ${def.name} ${def.usage}` : ''}` };
  return { kind: 'run', id, command, def, args: args.data as unknown[], opts: opts.data };
}

function rejectOrNotice(env: JudgeEnv, command: Command, error: ErrorCode, message: string): Verdict {
  if (!command.id) return { kind: 'notice', error, message };
  if (env.hasSeen(command.id)) return { kind: 'duplicate', id: command.id };
  return { kind: 'reject', id: command.id, cmd: command.cmd, args: command.args, error, message };
}
