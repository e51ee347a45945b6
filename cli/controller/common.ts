// What every controller verb shares: the connection flags, config resolution, the fleet
// connection, and turning failures into one line and exit status 2 (never a stack trace).
import { Option, type Command } from 'commander';
import { z } from 'zod';
import { addConnectionOptions, ConfigError, credentials, printConfig, resolveConfig, type ControllerConfig } from '../config.js';
import { ControllerError } from '../../controller/errors.js';
import { parseOptionValue } from '../../protocol/index.js';
import type { Fleet } from '../../controller/fleet.js';
import { namedHosts, type Target } from '../../controller/targets.js';
import { Exit, type ExitStatus } from './exit-codes.js';
import type { OperatorLog } from './operator-log.js';
import { makeOutput, type Output } from './output.js';

export interface VerbContext {
  cfg: ControllerConfig;
  out: Output;
  fleet: Fleet;
  cmd: Command;
}

/** Declares a verb with the shared flags and an Examples section in its --help. */
export function defineVerb(program: Command, usage: string, description: string, examples: string[]): Command {
  const cmd = program.command(usage).description(description);
  addConnectionOptions(cmd)
    .addOption(new Option('--timeout <sec>', "how long to wait for results (Salt's -t); hosts still running then are named and keep running (env CONPLYENT_TIMEOUT; default 30)"))
    .addOption(new Option('--ttl <sec>', 'a command not started within this many seconds is never run (env CONPLYENT_TTL; default --timeout + 5, or 300 with --queue)'))
    .option('-x, --exclude <target>', 'leave out the hosts this target selects (pdsh -x): web-3, web[5-9], role=db')
    .option('--json', 'NDJSON output, one event per line (env CONPLYENT_JSON=1; docs/controller.md)')
    .option('--client-id <id>', 'MQTT client id of this controller (env CONPLYENT_CLIENT_ID; default ctl-<random>)')
    .option('--signing-key <file>', 'sign every command with this private key (conplyent key create; env CONPLYENT_KEY_FILE)')
    .option('--known-hosts <file>', 'pinned agent keys, appended on first contact (env CONPLYENT_KNOWN_HOSTS; default ~/.config/conplyent/known_hosts)');
  // Usage errors (unknown option, missing argument) exit 2 like every other usage error, not commander's 1.
  cmd.exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : Exit.USAGE));
  cmd.showHelpAfterError(`(conplyent ${cmd.name()} --help shows usage; arguments that start with - go after --)`);
  cmd.addHelpText('after', `\nExamples:\n${examples.map((e) => `  ${e}`).join('\n')}\n\nExit status: 0 all ok, 1 some failed, 2 usage/config/connection error, 3 some offline or no answer, 4 target matched no host (attach, kill, input: no selected host has the job), 5 a result was forged.`);
  return cmd;
}

/** The verb's target with --exclude applied (controller/targets.ts works it out against presence). */
export function targetOf(cmd: Command, target: string): Target {
  const exclude = cmd.opts().exclude as string | undefined;
  return exclude ? { include: target, exclude } : target;
}

/** A usage error found by a verb itself (bad `key=value`, missing file). */
export class UsageError extends Error {}

/** get and audit name one host: an --exclude there would be silently meaningless, so it is refused. */
export function oneHost(cmd: Command, host: string): string {
  if (cmd.opts().exclude !== undefined) throw new UsageError(`-x/--exclude leaves hosts out of a target; ${cmd.name()} takes one host (${host})`);
  return host;
}

function fatal(out: Output, verb: string, err: unknown): ExitStatus {
  const message = err instanceof Error ? err.message : String(err);
  const known = err instanceof ConfigError || err instanceof ControllerError || err instanceof UsageError;
  if (process.env.CONPLYENT_DEBUG === '1' && err instanceof Error) out.stderr.write(`${err.stack}\n`);
  if (out.json) out.ndjson({ type: 'fatal', message, exit: Exit.USAGE });
  out.stderr.write(`conplyent ${verb}: ${known ? message : `unexpected error: ${message}`}\n`);
  return Exit.USAGE;
}

/**
 * Resolves the config, connects, runs the verb and sets process.exitCode from what it returns.
 * `target` is the verb's target (or host) as typed: when it names hosts outright, connecting ends as
 * soon as they are heard of, instead of after the presence settle window.
 */
export async function withFleet(cmd: Command, target: string | undefined, body: (ctx: VerbContext) => Promise<ExitStatus>): Promise<void> {
  // A verb is one short process that decodes a few JSON messages (output comes as raw frames): zod's
  // JIT, which compiles each object schema into a function with new Function on its first parse, costs
  // it more than it saves (≈ 10 ms CPU of a cold `exec`, BENCHMARKS.md issue 17). The agent keeps it.
  z.config({ jitless: true });
  const flags = cmd.opts();
  let out = makeOutput(flags.json === true);
  let fleet: Fleet | undefined;
  let log: OperatorLog | undefined;
  try {
    const cfg = await resolveConfig('controller', flags);
    if (flags.printConfig) {
      out.stdout.write(printConfig(cfg) + '\n');
      return;
    }
    out = makeOutput(cfg.json);
    // mqtt.js and pino only once a verb connects: `--help` and `--print-config` never need them.
    const [{ connect }, { OperatorLog }] = await Promise.all([import('../../controller/fleet.js'), import('./operator-log.js')]);
    const oplog = (log = new OperatorLog(cfg.logLevel === 'info' ? 'warn' : cfg.logLevel));
    fleet = await connect(cfg.broker, {
      ...credentials(cfg),
      clientId: cfg.clientId,
      signingKey: cfg.keyFile,
      knownHosts: cfg.knownHosts,
      logger: oplog.logger,
      awaitHosts: namedHosts(target),
    });
    // The connection's ups and downs, one line each (the library reconnects and replays by itself).
    if (!cfg.json) {
      fleet.on('offline', () => oplog.say(`lost the connection to ${cfg.broker}; reconnecting`));
      fleet.on('reconnect', () => oplog.say(`reconnected to ${cfg.broker}`));
    }
    process.exitCode = await body({ cfg, out, fleet, cmd });
  } catch (err) {
    process.exitCode = fatal(out, cmd.name(), err);
  } finally {
    log?.mute();
    await fleet?.close().catch(() => {});
  }
}

/** `key=value` words into an options object; values follow the text-command rule [cp-text-6] (parseOptionValue). */
export function parsePairs(pairs: readonly string[] | undefined, what: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const p of pairs ?? []) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new UsageError(`${what} "${p}" must be key=value`);
    out[p.slice(0, eq)] = parseOptionValue(p.slice(eq + 1));
  }
  return out;
}

export const collect = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), v];
