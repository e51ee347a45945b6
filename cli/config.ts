// The one config story for every part: flags > env > config file (`--config`, JSON) > defaults,
// validated once here into typed objects; the parts behind the CLI trust what they get.
import { readFile } from 'node:fs/promises';
import { homedir, hostname } from 'node:os';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { z } from 'zod';
import { DEFAULT_CLOCK_SKEW_MS, DEFAULT_TTL_MS, sanitizeHostName } from '../protocol/index.js';
import { ConfigError, formatIssue } from './config-error.js';
import { loadConfigFile } from './config-file.js';
import { pick, type FieldSpec, type Layers } from './config-layers.js';
import { agentFields, agentSchema, brokerFields, brokerSchema, connectionFields, controllerFields, controllerSchema } from './config-fields.js';

export { ConfigError } from './config-error.js';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** How agent and controller reach the broker. `password` is read from a file or env, never a flag. */
export interface ConnectionConfig {
  broker: string;
  username?: string;
  password?: string;
  /** Where the password came from, so `agent install` can reference it instead of copying it. */
  passwordFile?: string;
  ca?: string;
  cert?: string;
  key?: string;
  insecure: boolean;
  logLevel: LogLevel;
  /** The config file that was read, if any. */
  configFile?: string;
}

/** The credentials and TLS files of a connection config, as the agent and controller libraries take them. */
export function credentials(c: ConnectionConfig): Pick<ConnectionConfig, 'username' | 'password' | 'ca' | 'cert' | 'key' | 'insecure'> {
  return { username: c.username, password: c.password, ca: c.ca, cert: c.cert, key: c.key, insecure: c.insecure };
}

export interface AgentConfig extends ConnectionConfig {
  name: string;
  labels: Record<string, string>;
  stateDir: string;
  keepaliveSec: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  spoolMemoryBytes: number;
  spoolDiskBytes: number;
  replayRetentionMs: number;
  clockSkewMs: number;
  /** Absolute paths or package names; each default-exports `(agent) => void`. */
  plugins: string[];
}

export interface ControllerConfig extends ConnectionConfig {
  timeoutMs: number;
  ttlMs: number;
  json: boolean;
  clientId?: string;
}

export interface BrokerConfig {
  host: string;
  port: number;
  wsPort?: number;
  tls?: { port: number; cert: string; key: string; ca?: string };
  usersFile?: string;
  allowUnauthenticated: boolean;
  maxPacketBytes: number;
  dataDir?: string;
  /** redis:// URL shared by several brokers (broker/cluster.ts). */
  cluster?: string;
  withAgent: boolean;
  logLevel: LogLevel;
  configFile?: string;
}

export type Part = 'agent' | 'broker' | 'controller';
type ConfigFor<P extends Part> = P extends 'agent' ? AgentConfig : P extends 'broker' ? BrokerConfig : ControllerConfig;

export const DEFAULT_BROKER_URL = 'mqtt://127.0.0.1:1883';
export const DEFAULT_CONTROLLER_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_PACKET_BYTES = 1024 * 1024;

/** Mirrors the agent library's own defaults (agent/options.ts) so --print-config shows what will run. */
export const AGENT_DEFAULTS = {
  keepaliveSec: 30,
  reconnectMinMs: 500,
  reconnectMaxMs: 30_000,
  spoolMemoryBytes: 8 * 1024 * 1024,
  spoolDiskBytes: 256 * 1024 * 1024,
  replayRetentionMs: 10 * 60 * 1000,
  clockSkewMs: DEFAULT_CLOCK_SKEW_MS,
} as const;

const collect = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), v];

/** Adds the flags every broker client shares (agent and controller verbs). Values are resolved by resolveConfig. */
export function addConnectionOptions(cmd: Command): Command {
  return cmd
    .option('--broker <url>', `broker URL: mqtt://, mqtts://, ws://, wss:// (env CONPLYENT_BROKER; default ${DEFAULT_BROKER_URL})`)
    .option('--username <name>', 'MQTT user name (env CONPLYENT_USERNAME)')
    .option('--password-file <file>', 'file holding the MQTT password (env CONPLYENT_PASSWORD_FILE; or env CONPLYENT_PASSWORD)')
    .option('--ca <file>', 'CA certificate for TLS (env CONPLYENT_CA)')
    .option('--cert <file>', 'client certificate for TLS (env CONPLYENT_CERT)')
    .option('--key <file>', 'client key for TLS (env CONPLYENT_KEY)')
    .option('--insecure', 'skip TLS certificate verification (env CONPLYENT_INSECURE=1)')
    .option('--config <file>', 'JSON config file, see docs/config.md (env CONPLYENT_CONFIG)')
    .addOption(new Option('--log-level <level>', 'log level (env CONPLYENT_LOG_LEVEL; default info)').choices(LOG_LEVELS))
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

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

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
export async function resolveConfig<P extends Part>(
  part: P,
  flags: Record<string, unknown>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ConfigFor<P>> {
  const layers: Layers = { flags, env };
  const configPath = pick(layers, { flag: '--config', env: 'CONPLYENT_CONFIG', kind: 'path' });
  if (configPath) {
    layers.filePath = configPath.value as string;
    layers.file = await loadConfigFile(layers.filePath);
  }
  const out: Record<string, unknown> = {};
  const sources = new Map<string, string>();
  if (layers.filePath) out.configFile = layers.filePath;

  if (part === 'broker') {
    const raw: Record<string, unknown> = { host: '127.0.0.1', port: 1883, allowUnauthenticated: false, maxPacketBytes: DEFAULT_MAX_PACKET_BYTES, withAgent: false, logLevel: 'info', ...out };
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

  const raw: Record<string, unknown> = { broker: DEFAULT_BROKER_URL, insecure: false, logLevel: 'info', ...out };
  gather(layers, connectionFields, raw, sources);
  await readPassword(layers, raw, sources);

  if (part === 'agent') {
    Object.assign(raw, { name: sanitizeHostName(hostname()), labels: {}, stateDir: defaultStateDir(env), ...AGENT_DEFAULTS, plugins: [] });
    gather(layers, agentFields, raw, sources);
    // The default is per agent name, so two agents on one host never share state (each would
    // report the other's jobs lost); an explicit --state-dir is used as given.
    if (!sources.has('stateDir') && typeof raw.name === 'string') raw.stateDir = join(String(raw.stateDir), raw.name);
    return validate(agentSchema, raw, sources, part) as ConfigFor<P>;
  }
  Object.assign(raw, { timeoutMs: DEFAULT_CONTROLLER_TIMEOUT_MS, ttlMs: DEFAULT_TTL_MS, json: false });
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
