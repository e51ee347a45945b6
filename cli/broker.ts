// `conplyent broker`: the embedded broker, optionally with a local agent in the same process (the
// one-box fleet of `npm start`), and `broker user add|remove|list` for its users file.
import { existsSync } from 'node:fs';
import { delimiter, isAbsolute, join, relative } from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_BROKER_HOST, DEFAULT_BROKER_PORT, DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_MAX_PACKET_BYTES, DEFAULT_MAX_UNSENT_BYTES, InsecureBrokerError, isLoopback } from '../broker/options.js';
import { addAgentOptions, createAgentFromConfig, runAgent, untilStopped } from './agent.js';
import { ConfigError, printConfig, resolveConfig, type BrokerConfig, DEFAULT_BROKER_URL } from './config.js';
import { createLogger } from './logger.js';
import { registerUserCommands } from './broker-users.js';

/** The URL a local client uses to reach a broker bound to `host` (a wildcard bind is reached on loopback). */
export function localUrl(host: string, port: number): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return `mqtt://127.0.0.1:${port}`;
  return `mqtt://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

const CLOSE_WAIT_MS = 3_000;

function checkExposure(cfg: BrokerConfig): void {
  // Refused here as well as in startBroker so that --dry-run (and the compose test) catch it too.
  if (!cfg.usersFile && !cfg.allowUnauthenticated && !isLoopback(cfg.host)) throw new InsecureBrokerError(cfg.host);
}

/**
 * How to run the CLI so that the printed commands work as typed: `conplyent` once it is on PATH
 * (`npm link`, a global install), else this very script from the current directory (`npm start`
 * in the repo: `node dist/cli/main.js`). `npx conplyent` is not offered: it may try the registry.
 */
function self(): string {
  const onPath = (process.env.PATH ?? '').split(delimiter).some((d) => d && existsSync(join(d, 'conplyent')));
  if (onPath || !process.argv[1]) return 'conplyent';
  const rel = relative(process.cwd(), process.argv[1]);
  return `node ${rel.startsWith('..') || isAbsolute(rel) ? process.argv[1] : rel}`;
}

/** A busy port: the exact commands that use another one (usage error, exit 2). */
function portInUse(port: number, message: string): ConfigError {
  const other = port === 65535 ? 1884 : port + 1;
  const c = self();
  return new ConfigError(
    `${message} (another broker, e.g. a system Mosquitto?). Use another port:\n` +
      `  ${c} broker --with-agent --port ${other}\n` +
      `  ${c} hosts --broker mqtt://127.0.0.1:${other}\n` +
      `or for every command of this terminal: export CONPLYENT_PORT=${other}`,
  );
}

function banner(url: string, agentName: string | undefined): string {
  // With CONPLYENT_PORT set the other terminal needs it too; --broker says it outright.
  const brokerFlag = url === DEFAULT_BROKER_URL ? '' : ` --broker ${url}`;
  const c = self();
  return [
    `conplyent broker listening on ${url}` + (agentName ? `, with local agent "${agentName}"` : ''),
    'Try, in another terminal:',
    `  ${c} hosts${brokerFlag}`,
    `  ${c} exec all${brokerFlag} -- uname -a`,
    'Ctrl-C stops.',
    '',
  ].join('\n');
}

export function registerBroker(program: Command): void {
  const cmd = program
    .command('broker')
    .description('run the embedded MQTT broker (aedes), optionally with a local agent')
    .option('--host <addr>', `address to listen on (env CONPLYENT_SERVER_HOST; default ${DEFAULT_BROKER_HOST})`)
    .option('--port <n>', `MQTT TCP port (env CONPLYENT_PORT, which every other verb then dials too, or CONPLYENT_SERVER_PORT; default ${DEFAULT_BROKER_PORT}; 0 = any free port)`)
    .option('--ws-port <n>', 'MQTT over WebSocket port (env CONPLYENT_SERVER_WS_PORT)')
    .option('--tls-port <n>', 'mqtts port (env CONPLYENT_SERVER_TLS_PORT; default 8883 when --tls-cert is set)')
    .option('--tls-cert <file>', 'TLS certificate chain, PEM (env CONPLYENT_SERVER_TLS_CERT)')
    .option('--tls-key <file>', 'TLS private key, PEM (env CONPLYENT_SERVER_TLS_KEY)')
    .option('--tls-ca <file>', 'CA bundle to accept client certificates (env CONPLYENT_SERVER_TLS_CA)')
    .option('--users <file>', 'users file with roles and hashed passwords (env CONPLYENT_SERVER_USERS)')
    .option('--allow-unauthenticated', 'allow connections without a password on a non-loopback host')
    .option('--max-packet-bytes <n>', `largest MQTT packet accepted (env CONPLYENT_SERVER_MAX_PACKET_BYTES; default ${DEFAULT_MAX_PACKET_BYTES})`)
    .option('--connect-timeout-ms <n>', `close a connection that has not completed CONNECT in this time (env CONPLYENT_SERVER_CONNECT_TIMEOUT_MS; default ${DEFAULT_CONNECT_TIMEOUT_MS})`)
    .option('--max-unsent-bytes <n>', `disconnect a client that leaves more unread (env CONPLYENT_SERVER_MAX_UNSENT_BYTES; default ${DEFAULT_MAX_UNSENT_BYTES})`)
    .option('--data-dir <dir>', 'keep sessions, queued commands and retained presence on disk (env CONPLYENT_SERVER_DATA_DIR)')
    .option('--cluster <redis-url>', 'one of several brokers sharing sessions, queues, presence and messages through Redis (env CONPLYENT_SERVER_CLUSTER)')
    .option('--config <file>', 'JSON config file, see docs/config.md (env CONPLYENT_CONFIG)')
    .option('--log-level <level>', 'log level (env CONPLYENT_LOG_LEVEL; default info)')
    .option('--print-config', 'print the effective config (secrets masked) and exit')
    .option('--dry-run', 'validate the config, print what would run, and exit')
    .option('--with-agent', 'also run an agent for this host in the same process (a one-box fleet)')
    .option('--username <name>', 'with --with-agent and --users: the local agent\'s user name (env CONPLYENT_USERNAME)')
    .option('--password-file <file>', 'with --with-agent and --users: the local agent\'s password file (env CONPLYENT_PASSWORD_FILE)');
  addAgentOptions(cmd).addHelpText(
    'after',
    `
Listening on anything but loopback needs --users FILE (see \`conplyent broker user add --help\`)
or an explicit --allow-unauthenticated.

Examples:
  conplyent broker --with-agent                      # what \`npm start\` runs: a fleet of one on 127.0.0.1:1883
  conplyent broker --host 0.0.0.0 --users /etc/conplyent/users.json --data-dir /var/lib/conplyent/broker
  conplyent broker --host 0.0.0.0 --users users.json --cluster redis://redis.internal:6379   # one of several, behind a load balancer
  conplyent broker --tls-port 8883 --tls-cert cert.pem --tls-key key.pem --ws-port 8080 --users users.json`,
  );
  cmd.action(async (_o: unknown, self: Command) => {
    const flags = self.opts();
    const cfg = await resolveConfig('broker', flags);
    const agentFlags = { ...flags, broker: localUrl(cfg.host, cfg.port || 1883) };
    const agentCfg = cfg.withAgent ? await resolveConfig('agent', agentFlags) : undefined;
    if (flags.printConfig) {
      process.stdout.write(printConfig(agentCfg ? { ...cfg, agent: agentCfg } : cfg) + '\n');
      return;
    }
    checkExposure(cfg);
    if (agentCfg && cfg.usersFile && !agentCfg.username) {
      throw new ConfigError(
        `flag --with-agent: with a users file the local agent must log in too: add a user named like the host (conplyent broker user add ${agentCfg.name} --role agent) and pass --username ${agentCfg.name} --password-file FILE`,
      );
    }
    if (flags.dryRun) {
      const what = `would start broker on ${cfg.host}:${cfg.port}` + (agentCfg ? ` with local agent "${agentCfg.name}"` : '');
      process.stdout.write(`${what}\n${printConfig(agentCfg ? { ...cfg, agent: agentCfg } : cfg)}\n`);
      return;
    }
    const log = createLogger(cfg.logLevel);
    const { startBroker } = await import('../broker/index.js');
    const broker = await startBroker({ ...cfg, logger: log }).catch((err: unknown) => {
      throw (err as { code?: unknown }).code === 'EADDRINUSE' ? portInUse(cfg.port, (err as Error).message) : err;
    });
    const url = localUrl(cfg.host, broker.port);
    const closeBroker = async (): Promise<void> => {
      // Bounded: connected clients must not keep Ctrl-C from finishing.
      const closed = await Promise.race([broker.close().then(() => true), new Promise<false>((r) => setTimeout(r, CLOSE_WAIT_MS, false).unref())]);
      if (!closed) log.warn(`broker did not close within ${CLOSE_WAIT_MS} ms; exiting anyway`);
    };
    if (!agentCfg) {
      process.stdout.write(banner(url, undefined));
      await untilStopped(closeBroker, log);
      process.exit(0);
    }
    let agent;
    try {
      agent = await createAgentFromConfig({ ...agentCfg, broker: [url] }, log);
    } catch (err) {
      await closeBroker();
      throw err;
    }
    agent.once('online', () => process.stdout.write(banner(url, agentCfg.name)));
    // Agent first, so its presence goes offline through a broker that is still there.
    await runAgent(agent, log, closeBroker);
    process.exit(0);
  });
  registerUserCommands(cmd);
}
