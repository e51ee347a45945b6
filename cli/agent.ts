// `conplyent agent`: runs the agent library with the resolved config; `agent install|uninstall` puts
// it under systemd so a host comes back on its own after a crash or a reboot.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Command } from 'commander';
import type { Logger } from 'pino';
import type { Agent } from '../agent/index.js';
import { addConnectionOptions, ConfigError, credentials, labelOption, printConfig, repeatable, resolveConfig, type AgentConfig } from './config.js';
import { defaultOf } from '../link/settings.js';
import { agentSectionSchema } from './config-fields.js';
import { createLogger } from './logger.js';
import { registerInstall } from './agent-install.js';

const agentDefault = (key: string) => defaultOf(agentSectionSchema, key);

/** The agent's own flags, shared by `agent`, `agent install` and `broker --with-agent`. */
export function addAgentOptions(cmd: Command): Command {
  return cmd
    .option('--name <host>', 'host name on the wire (env CONPLYENT_NAME; default: sanitised hostname)')
    .addOption(labelOption())
    .option('--state-dir <dir>', 'state directory (env CONPLYENT_STATE_DIR; default ~/.local/state/conplyent, /var/lib/conplyent as root)')
    .option('--keepalive <sec>', `MQTT keepalive in seconds (env CONPLYENT_KEEPALIVE; default ${agentDefault('keepaliveSec')})`)
    .option('--reconnect-min-ms <ms>', `first reconnect delay (env CONPLYENT_RECONNECT_MIN_MS; default ${agentDefault('reconnectMinMs')})`)
    .option('--reconnect-max-ms <ms>', `longest reconnect delay (env CONPLYENT_RECONNECT_MAX_MS; default ${agentDefault('reconnectMaxMs')})`)
    .option('--spool-memory-bytes <n>', 'events kept in memory while offline (env CONPLYENT_SPOOL_MEMORY_BYTES)')
    .option('--spool-disk-bytes <n>', 'events spooled to disk while offline (env CONPLYENT_SPOOL_DISK_BYTES)')
    .option('--replay-retention-ms <ms>', 'how long finished jobs can be replayed (env CONPLYENT_REPLAY_RETENTION_MS)')
    .option('--clock-skew-ms <ms>', `allowed sender clock difference (env CONPLYENT_CLOCK_SKEW_MS; default ${agentDefault('clockSkewMs')})`)
    .addOption(repeatable('--plugin <module>', 'JS module whose default export (agent) => void adds commands; repeatable (env CONPLYENT_PLUGINS=a,b)'))
    .option('--policy <file>', 'policy file: which keys may run what, where, as whom (docs/policy.md; env CONPLYENT_POLICY); reloaded on SIGHUP')
    .option('--require-signed', 'refuse unsigned commands (env CONPLYENT_REQUIRE_SIGNED)')
    .addOption(repeatable('--trusted-key <file|key>', 'controller public key (base64) or key file whose signatures are trusted; repeatable (env CONPLYENT_TRUSTED_KEYS=a,b)'))
    .option('--signing-key <file>', "the agent's own ed25519 key, created there when missing (env CONPLYENT_KEY_FILE; default <state-dir>/agent.key)")
    .option('--max-jobs <n>', `most jobs running at once; past it commands are refused with BUSY (env CONPLYENT_MAX_JOBS; default ${agentDefault('maxJobs')})`);
}

/** Loads plugins into a created agent: paths by file URL, bare names through normal package resolution. */
export async function loadPlugins(agent: unknown, plugins: string[], log: Logger): Promise<void> {
  for (const plugin of plugins) {
    const spec = plugin.startsWith('/') || /^[A-Za-z]:[\\/]/.test(plugin) ? pathToFileURL(resolve(plugin)).href : plugin;
    const mod = (await import(spec)) as { default?: unknown };
    if (typeof mod.default !== 'function') throw new Error(`plugin ${plugin}: its default export must be a function (agent) => void`);
    await (mod.default as (a: unknown) => unknown)(agent);
    log.info({ plugin }, 'plugin loaded');
  }
}

/** A bad trusted key or option (TypeError) is a configuration mistake: one line, exit status 2. */
function asConfigError<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof TypeError) throw new ConfigError(err.message);
    throw err;
  }
}

/** Creates an agent from a resolved config and loads its plugins; the caller starts it. */
export async function createAgentFromConfig(cfg: AgentConfig, log: Logger): Promise<Agent> {
  const { createAgent } = await import('../agent/index.js');
  // Checked before anything is logged or started, so a bad policy is the one line the user sees.
  if (cfg.policyFile) {
    const { loadPolicy } = await import('../agent/policy/loader.js');
    await loadPolicy(cfg.policyFile).catch((err: Error) => {
      throw new ConfigError(err.message);
    });
  }
  const agent = asConfigError(() => createAgent({
    broker: cfg.broker,
    name: cfg.name,
    labels: cfg.labels,
    ...credentials(cfg),
    stateDir: cfg.stateDir,
    keepaliveSec: cfg.keepaliveSec,
    reconnectMinMs: cfg.reconnectMinMs,
    reconnectMaxMs: cfg.reconnectMaxMs,
    spoolMemoryBytes: cfg.spoolMemoryBytes,
    spoolDiskBytes: cfg.spoolDiskBytes,
    replayRetentionMs: cfg.replayRetentionMs,
    clockSkewMs: cfg.clockSkewMs,
    policyFile: cfg.policyFile,
    requireSigned: cfg.requireSigned,
    trustedKeys: cfg.trustedKeys,
    keyFile: cfg.keyFile,
    maxJobs: cfg.maxJobs,
    logger: log.child({ part: 'agent' }),
  }));
  // The agent logs these itself and retries on the next connection; without a listener an
  // EventEmitter 'error' would crash the process.
  agent.on('error', () => undefined);
  await loadPlugins(agent, cfg.plugins, log);
  return agent;
}

/**
 * Runs `stop` once, on the first SIGINT/SIGTERM or when `closed` resolves (the agent ran
 * close_server), and resolves after it. A second signal exits at once.
 */
export function untilStopped(stop: () => Promise<void>, log: Logger, closed?: Promise<unknown>): Promise<void> {
  return new Promise((done, fail) => {
    let stopping = false;
    const run = (why: string): void => {
      if (stopping) {
        log.warn({ why }, 'second signal: exiting without a clean stop');
        process.exit(130);
      }
      stopping = true;
      log.info({ why }, 'stopping');
      stop().then(done, fail);
    };
    process.on('SIGINT', () => run('SIGINT'));
    process.on('SIGTERM', () => run('SIGTERM'));
    void closed?.then(() => run('close_server'));
  });
}

/** Starts the agent, stays up until a signal or close_server, and stops it (then `after`). */
export async function runAgent(agent: Agent, log: Logger, after: () => Promise<void> = async () => {}): Promise<void> {
  const closed = new Promise<void>((r) => agent.once('closed', () => r()));
  // Signals are handled from the start: an agent still waiting for its broker must stop on Ctrl-C too.
  const stopped = untilStopped(async () => {
    await agent.stop();
    await after();
  }, log, closed);
  const started = agent.start().then(
    () => log.info({ host: agent.name }, 'agent online'),
    (err: NodeJS.ErrnoException) => {
      // An invalid policy or agent key: one line naming the file and the field, exit status 2.
      if (err.code === 'POLICY_INVALID' || err instanceof TypeError) throw new ConfigError(err.message);
      // The state directory is the usual culprit (permissions, a file in the way): say which setting to fix.
      if (err.code && err.path) throw new ConfigError(`state directory: ${err.message}`);
      throw err;
    },
  );
  await Promise.race([stopped, started]);
  await stopped;
}

export function registerAgent(program: Command): void {
  const cmd = program
    .command('agent')
    .description('run the agent: connect out to the broker and serve commands for this host');
  addAgentOptions(addConnectionOptions(cmd))
    .option('--dry-run', 'validate the config, print what would run, and exit')
    .addHelpText(
      'after',
      `
Examples:
  conplyent agent --broker mqtt://broker.lan:1883 --name web-1 --label role=web
  CONPLYENT_BROKER=mqtts://broker.lan:8883 CONPLYENT_PASSWORD_FILE=/etc/conplyent/pw conplyent agent --ca /etc/conplyent/ca.pem
  conplyent agent --config /etc/conplyent/config.json --print-config
  conplyent agent install --system --broker mqtt://broker.lan:1883 --label role=db`,
    )
    .action(async (_opts: unknown, self: Command) => {
      const cfg = await resolveConfig('agent', self.opts());
      if (self.opts().printConfig) {
        process.stdout.write(printConfig(cfg) + '\n');
        return;
      }
      if (self.opts().dryRun) {
        process.stdout.write(`would start agent "${cfg.name}" connecting to ${cfg.broker}\n${printConfig(cfg)}\n`);
        return;
      }
      const log = createLogger(cfg.logLevel);
      const agent = await createAgentFromConfig(cfg, log);
      log.info({ host: cfg.name, broker: cfg.broker }, 'agent starting');
      await runAgent(agent, log);
      process.exit(0);
    });
  registerInstall(cmd);
}
