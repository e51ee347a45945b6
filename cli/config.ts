// The one config story for every part: flags > env > config file (`--config`, JSON) > defaults,
// validated once here into typed objects; the parts behind the CLI trust what they get.
import { readFile } from 'node:fs/promises';
import { homedir, hostname } from 'node:os';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { z } from 'zod';
import { BROKER_SCHEMES } from '../link/broker-url.js';
import { sanitizeHostName } from '../protocol/index.js';
import { ConfigError, formatIssue } from './config-error.js';
import { loadConfigFile } from './config-file.js';
import { pick, type FieldSpec, type Layers } from './config-layers.js';
import {
  agentFields,
  agentSchema,
  brokerFields,
  brokerSchema,
  connectionFields,
  connectionSchema,
  controllerFields,
  controllerSchema,
  DEFAULT_BROKER_URL,
  LOG_LEVELS,
  type LogLevel,
} from './config-fields.js';

export { ConfigError } from './config-error.js';

export type ConnectionConfig = z.output<typeof connectionSchema>;
export type AgentConfig = z.output<typeof agentSchema>;
export type ControllerConfig = z.output<typeof controllerSchema>;
export type BrokerConfig = z.output<typeof brokerSchema>;

/** The credentials and TLS files of a connection config, as the agent and controller libraries take them. */
export function credentials(c: ConnectionConfig): Pick<ConnectionConfig, 'username' | 'password' | 'ca' | 'cert' | 'key' | 'insecure'> {
  return { username: c.username, password: c.password, ca: c.ca, cert: c.cert, key: c.key, insecure: c.insecure };
}

export type Part = 'agent' | 'broker' | 'controller';
type ConfigFor<P extends Part> = P extends 'agent' ? AgentConfig : P extends 'broker' ? BrokerConfig : ControllerConfig;

export { DEFAULT_BROKER_URL, type LogLevel };

const collect = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), v];

/** Adds the flags every broker client shares (agent and controller verbs). Values are resolved by resolveConfig. */
export function addConnectionOptions(cmd: Command): Command {
  return cmd
    .option('--broker <url>', `broker URL, or several comma-separated (the nodes of one cluster, dialled in turn): ${BROKER_SCHEMES.map((s) => `${s}://`).join(', ')} (env CONPLYENT_BROKER; default ${DEFAULT_BROKER_URL})`)
    .option('--username <name>', 'MQTT user name (env CONPLYENT_USERNAME)')
    .option('--password-file <file>', 'file holding the MQTT password (env CONPLYENT_PASSWORD_FILE; or env CONPLYENT_PASSWORD)')
    .option('--ca <file>', 'CA certificate for TLS (env CONPLYENT_CA)')
    .option('--cert <file>', 'client certificate for TLS (env CONPLYENT_CERT)')
    .option('--key <file>', 'client key for TLS (env CONPLYENT_KEY)')
    .option('--insecure', 'skip TLS certificate verification (env CONPLYENT_INSECURE=1)')
    .option('--config <file>', 'JSON config file, see docs/config.md (env CONPLYENT_CONFIG)')
    .addOption(new Option('--log-level <level>', 'log level (env CONPLYENT_LOG_LEVEL; default info)').choices([...LOG_LEVELS]))
    .option('--print-config', 'print the effective config (secrets masked) and exit');
}

/** Adds the repeatable `--label k=v` flag with the collector commander needs. */
export function labelOption(): Option {
  return new Option('--label <key=value>', 'label, repeatable (env CONPLYENT_LABELS="a=b,c=d")').argParser(collect);
}

/** Adds a repeatable option that collects its values into an array. */
export function repeatable(flags: string, description: string): Option {
  return new Option(flags, description).argParser(collect);
}

/** Reads every field of a table; returns values and where each came from. */
function gather(layers: Layers, fields: Record<string, FieldSpec>, out: Record<string, unknown>, sources: Map<string, string>): void {
  for (const [key, spec] of Object.entries(fields)) {
    const got = pick(layers, spec);
    if (got === undefined) continue;
    out[key] = got.value;
    sources.set(key, got.source);
  }
}

/** Where agents keep state when none is given (each agent in a subfolder named after it): per user, or system-wide for root. */
export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (typeof process.getuid === 'function' && process.getuid() === 0) return '/var/lib/conplyent';
  const base = env.XDG_STATE_HOME || join(env.HOME || homedir(), '.local', 'state');
  return join(base, 'conplyent');
}

/** Where the controller pins agent keys unless told otherwise: the user's config dir, like ~/.ssh/known_hosts. */
export function defaultKnownHosts(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'conplyent', 'known_hosts');
}

async function readPassword(layers: Layers, out: Record<string, unknown>, sources: Map<string, string>): Promise<void> {
  const fileSpec: FieldSpec = { flag: '--password-file', env: 'CONPLYENT_PASSWORD_FILE', file: 'passwordFile', kind: 'path' };
  const flagFile = layers.flags.passwordFile;
  // A password given directly in env beats a file named in env or in the config file, but not --password-file.
  if (flagFile === undefined && layers.env.CONPLYENT_PASSWORD) {
    out.password = layers.env.CONPLYENT_PASSWORD;
    sources.set('password', 'env CONPLYENT_PASSWORD');
    return;
  }
  const got = pick(layers, fileSpec);
  if (!got) return;
  const path = got.value as string;
  try {
    out.password = (await readFile(path, 'utf8')).replace(/\r?\n$/, '');
  } catch (err) {
    throw new ConfigError(`${got.source}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  out.passwordFile = path;
  sources.set('password', got.source);
  sources.set('passwordFile', got.source);
}

function validate<T>(schema: z.ZodType<T>, value: Record<string, unknown>, sources: Map<string, string>, part: Part): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const key = String(issue.path[0] ?? '');
  const detail = formatIssue({ ...issue, path: issue.path.slice(1) });
  const src = sources.get(key);
  throw new ConfigError(src ? `${src}: ${detail}` : `${part} config: ${key}: ${detail}`);
}

/**
 * Resolves the effective config of one part from commander flags, env and the config file.
 * Throws ConfigError (one line naming source and field) on any invalid setting.
 * @example const cfg = await resolveConfig('controller', cmd.optsWithGlobals());
 */
/**
 * CONPLYENT_PORT=1884: one variable for a quick start on another port, for every part: the broker
 * listens there, agents and controllers connect to 127.0.0.1 on it. The specific variables
 * (CONPLYENT_SERVER_PORT, CONPLYENT_BROKER) still win when set.
 */
function withPortShortcut(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const port = env.CONPLYENT_PORT;
  if (port === undefined || port === '') return env;
  if (!/^\d{1,5}$/.test(port) || Number(port) > 65535) throw new ConfigError(`env CONPLYENT_PORT: expected a port number 0-65535, got "${port}"`);
  return { ...env, CONPLYENT_SERVER_PORT: env.CONPLYENT_SERVER_PORT ?? port, CONPLYENT_BROKER: env.CONPLYENT_BROKER ?? `mqtt://127.0.0.1:${port}` };
}

export async function resolveConfig<P extends Part>(
  part: P,
  flags: Record<string, unknown>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ConfigFor<P>> {
  const layers: Layers = { flags, env: withPortShortcut(env) };
  const configPath = pick(layers, { flag: '--config', env: 'CONPLYENT_CONFIG', kind: 'path' });
  if (configPath) {
    layers.filePath = configPath.value as string;
    layers.file = await loadConfigFile(layers.filePath);
  }
  const out: Record<string, unknown> = {};
  const sources = new Map<string, string>();
  if (layers.filePath) out.configFile = layers.filePath;

  if (part === 'broker') {
    const raw: Record<string, unknown> = { ...out };
    gather(layers, brokerFields, raw, sources);
    const { tlsPort, tlsCert, tlsKey, tlsCa, ...rest } = raw;
    if (tlsPort !== undefined || tlsCert !== undefined || tlsKey !== undefined) {
      for (const [k, v] of Object.entries({ tlsCert, tlsKey })) {
        if (v === undefined) throw new ConfigError(`${sources.get('tlsPort') ?? sources.get('tlsCert') ?? sources.get('tlsKey')}: TLS needs ${k === 'tlsCert' ? '--tls-cert' : '--tls-key'} too`);
      }
      rest.tls = { port: tlsPort ?? 8883, cert: tlsCert, key: tlsKey, ...(tlsCa !== undefined ? { ca: tlsCa } : {}) };
      for (const k of ['tlsPort', 'tlsCert', 'tlsKey']) if (sources.has(k)) sources.set('tls', sources.get(k)!);
    }
    return validate(brokerSchema, rest, sources, part) as ConfigFor<P>;
  }

  const raw: Record<string, unknown> = { ...out };
  gather(layers, connectionFields, raw, sources);
  await readPassword(layers, raw, sources);

  if (part === 'agent') {
    // Defaults that depend on this machine; every other default is written in the schema.
    Object.assign(raw, { name: sanitizeHostName(hostname()), stateDir: defaultStateDir(env) });
    gather(layers, agentFields, raw, sources);
    // The default is per agent name, so two agents on one host never share state (each would
    // report the other's jobs lost); an explicit --state-dir is used as given.
    if (!sources.has('stateDir') && typeof raw.name === 'string') raw.stateDir = join(String(raw.stateDir), raw.name);
    return validate(agentSchema, raw, sources, part) as ConfigFor<P>;
  }
  raw.knownHosts = defaultKnownHosts(env);
  gather(layers, controllerFields, raw, sources);
  return validate(controllerSchema, raw, sources, part) as ConfigFor<P>;
}

/** The config as pretty JSON with secrets masked, for `--print-config`. */
export function printConfig(cfg: object): string {
  return JSON.stringify(cfg, (k, v) => {
    if (k === 'password' && v !== undefined) return '***';
    // A Redis URL may carry a password: redis://user:secret@host.
    if (k === 'cluster' && typeof v === 'string') return v.replace(/\/\/[^@/]*@/, '//***@');
    return v;
  }, 2);
}
