// From a verdict or an ended job to the audit entry that records it: who (key, claimed sender),
// what (command, digest of its arguments, the path or program it acts on), and what was decided.
import { digestOf, type AuditEntry } from '../../protocol/index.js';
import { FILE_COMMANDS } from '../policy/schema.js';
import type { ForgedVerdict, RejectVerdict, RunVerdict } from '../inbound/judge.js';

/** What a command acts on: exec's program, a file command's path. */
function targetOf(cmd: string, args: readonly unknown[]): string | undefined {
  if (cmd !== 'exec' && !Object.hasOwn(FILE_COMMANDS, cmd)) return undefined;
  const a = args[0];
  return typeof a === 'string' || typeof a === 'number' ? String(a) : undefined;
}

export function refusedEntry(v: RejectVerdict | ForgedVerdict): AuditEntry {
  return {
    kind: 'decision',
    accepted: false,
    kid: v.kid,
    from: v.from,
    cmd: v.cmd,
    digest: digestOf(v.args, v.opts ?? {}),
    target: targetOf(v.cmd, v.args),
    code: v.error,
    job: v.id,
  };
}

export function acceptedEntry(v: RunVerdict): AuditEntry {
  return {
    kind: 'decision',
    accepted: true,
    kid: v.kid,
    from: v.command.from,
    cmd: v.def.name,
    digest: digestOf(v.args, v.opts),
    target: targetOf(v.def.name, v.args),
    rule: v.grant?.rule,
    code: 'ALLOWED',
    job: v.id,
  };
}

export function outcomeEntry(v: RunVerdict, code: string, durationMs: number): AuditEntry {
  return { kind: 'outcome', kid: v.kid, from: v.command.from, cmd: v.def.name, rule: v.grant?.rule, code, durationMs, job: v.id };
}
