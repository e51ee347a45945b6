// The flags of verbs that start jobs (run, exec, shell): how long to wait versus when to kill, whether
// a command may wait in a queue for an offline host, fire-and-forget, confirmation, and how output is
// laid out. Parsed once here into JobFlags; runAndRender trusts them.
import { InvalidArgumentError, type Command } from 'commander';
import { DEFAULT_TTL_MS } from '../../protocol/index.js';
import type { ControllerConfig } from '../config.js';
import { UsageError } from './common.js';

/**
 * How long after the wait a command may still start: it covers the trip through the broker and an
 * agent's clock a little behind ours. A copy delivered later than wait + grace answers EXPIRED.
 */
export const TTL_GRACE_MS = 5_000;

export interface JobFlags {
  /** The job's own timeoutMs: the agent ends the process tree after it (SSM's executionTimeout). */
  killAfterMs?: number;
  /** --queue: an offline host runs the command when it returns, within the TTL. */
  queue: boolean;
  /** --async: send, print the job id, exit. */
  async: boolean;
  yes: boolean;
  fold: boolean;
  sort: boolean;
}

function seconds(flag: string) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${flag} takes a number of seconds > 0, e.g. ${flag} 600`);
    return Math.round(n * 1000);
  };
}

/** Output layout flags: run, exec, attach. */
export function addLayoutOptions(cmd: Command): Command {
  return cmd
    .option('-c, --fold', 'print each distinct output once under the hosts that printed it (as dshbak -c), after all hosts ended')
    .option('--sort', 'buffer the output of each host and print the hosts in name order, after all hosts ended');
}

/** Flags of verbs that start jobs. */
export function addJobOptions(cmd: Command): Command {
  return addLayoutOptions(cmd)
    .option('--kill-after <sec>', "the agent ends the job's process tree after this many seconds (sent as the job's timeoutMs); without it, nothing is killed", seconds('--kill-after'))
    .option('--queue', 'an offline host runs the command when it comes back (within --ttl, default 300 s); without it a command not started within --timeout + 5 s is never run')
    .option('--async', 'send the command, print the job id and exit; follow it later with `conplyent attach TARGET JOB`')
    .option('-y, --yes', 'do not ask before reboot, shutdown, close_server or a recursive rm on more than one host');
}

export function jobFlags(cmd: Command): JobFlags {
  const o = cmd.opts();
  if ((o.fold || o.sort) && o.json) throw new UsageError('--fold and --sort lay out text; --json is already one event per line');
  if (o.async && (o.fold || o.sort)) throw new UsageError('--async prints no output to lay out; leave out --fold and --sort');
  return { killAfterMs: o.killAfter, queue: o.queue === true, async: o.async === true, yes: o.yes === true, fold: o.fold === true, sort: o.sort === true };
}

/**
 * The command's deadline [cp-env-5]: an explicit --ttl; with --queue the protocol default; else
 * just past the wait, so a copy that reaches a host after the CLI stopped waiting is never run.
 */
export function ttlFor(cfg: ControllerConfig, f: Pick<JobFlags, 'queue'>): number {
  return cfg.ttlMs ?? (f.queue ? DEFAULT_TTL_MS : cfg.timeoutMs + TTL_GRACE_MS);
}
