// The one config story for every part: flags > env > config file (`--config`, JSON) > defaults,
// validated once here into typed objects; the parts behind the CLI trust what they get.
import { readFile } from 'node:fs/promises';
import { homedir, hostname } from 'node:os';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { z } from 'zod';
import { DEFAULT_CLOCK_SKEW_MS, DEFAULT_TTL_MS, HOST_NAME_RE, MAX_TTL_MS, sanitizeHostName } from '../protocol/index.js';
import { ConfigError, formatIssue } from './config-error.js';
import { loadConfigFile } from './config-file.js';
import { pick, type FieldSpec, type Layers } from './config-layers.js';

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

const connectionFields: Record<string, FieldSpec> = {
  broker: { flag: '--broker', env: 'CONPLYENT_BROKER', file: 'broker', kind: 'string' },
  username: { flag: '--username', env: 'CONPLYENT_USERNAME', file: 'username', kind: 'string' },
  ca: { flag: '--ca', env: 'CONPLYENT_CA', file: 'tls.ca', kind: 'path' },
  cert: { flag: '--cert', env: 'CONPLYENT_CERT', file: 'tls.cert', kind: 'path' },
  key: { flag: '--key', env: 'CONPLYENT_KEY', file: 'tls.key', kind: 'path' },
  insecure: { flag: '--insecure', env: 'CONPLYENT_INSECURE', file: 'tls.insecure', kind: 'bool' },
  logLevel: { flag: '--log-level', env: 'CONPLYENT_LOG_LEVEL', file: 'logLevel', kind: 'string' },
};

const agentFields: Record<string, FieldSpec> = {
  name: { flag: '--name', env: 'CONPLYENT_NAME', file: 'agent.name', kind: 'string' },
  labels: { flag: '--label', env: 'CONPLYENT_LABELS', file: 'agent.labels', kind: 'labels' },
  stateDir: { flag: '--state-dir', env: 'CONPLYENT_STATE_DIR', file: 'agent.stateDir', kind: 'path' },
  keepaliveSec: { flag: '--keepalive', env: 'CONPLYENT_KEEPALIVE', file: 'agent.keepaliveSec', kind: 'number' },
  reconnectMinMs: { flag: '--reconnect-min-ms', env: 'CONPLYENT_RECONNECT_MIN_MS', file: 'agent.reconnectMinMs', kind: 'number' },
  reconnectMaxMs: { flag: '--reconnect-max-ms', env: 'CONPLYENT_RECONNECT_MAX_MS', file: 'agent.reconnectMaxMs', kind: 'number' },
  spoolMemoryBytes: { flag: '--spool-memory-bytes', env: 'CONPLYENT_SPOOL_MEMORY_BYTES', file: 'agent.spoolMemoryBytes', kind: 'number' },
  spoolDiskBytes: { flag: '--spool-disk-bytes', env: 'CONPLYENT_SPOOL_DISK_BYTES', file: 'agent.spoolDiskBytes', kind: 'number' },
  replayRetentionMs: { flag: '--replay-retention-ms', env: 'CONPLYENT_REPLAY_RETENTION_MS', file: 'agent.replayRetentionMs', kind: 'number' },
  clockSkewMs: { flag: '--clock-skew-ms', env: 'CONPLYENT_CLOCK_SKEW_MS', file: 'agent.clockSkewMs', kind: 'number' },
  plugins: { flag: '--plugin', env: 'CONPLYENT_PLUGINS', file: 'agent.plugins', kind: 'modules' },
};

const controllerFields: Record<string, FieldSpec> = {
  timeoutMs: { flag: '--timeout', env: 'CONPLYENT_TIMEOUT', file: 'controller.timeoutMs', kind: 'number', scale: 1000 },
  ttlMs: { flag: '--ttl', env: 'CONPLYENT_TTL', file: 'controller.ttlMs', kind: 'number', scale: 1000 },
  json: { flag: '--json', env: 'CONPLYENT_JSON', file: 'controller.json', kind: 'bool' },
  clientId: { flag: '--client-id', env: 'CONPLYENT_CLIENT_ID', file: 'controller.clientId', kind: 'string' },
};

const brokerFields: Record<string, FieldSpec> = {
  host: { flag: '--host', env: 'CONPLYENT_SERVER_HOST', file: 'server.host', kind: 'string' },
  port: { flag: '--port', env: 'CONPLYENT_SERVER_PORT', file: 'server.port', kind: 'number' },
  wsPort: { flag: '--ws-port', env: 'CONPLYENT_SERVER_WS_PORT', file: 'server.wsPort', kind: 'number' },
  tlsPort: { flag: '--tls-port', env: 'CONPLYENT_SERVER_TLS_PORT', file: 'server.tls.port', kind: 'number' },
  tlsCert: { flag: '--tls-cert', env: 'CONPLYENT_SERVER_TLS_CERT', file: 'server.tls.cert', kind: 'path' },
  tlsKey: { flag: '--tls-key', env: 'CONPLYENT_SERVER_TLS_KEY', file: 'server.tls.key', kind: 'path' },
  tlsCa: { flag: '--tls-ca', env: 'CONPLYENT_SERVER_TLS_CA', file: 'server.tls.ca', kind: 'path' },
  usersFile: { flag: '--users', env: 'CONPLYENT_SERVER_USERS', file: 'server.usersFile', kind: 'path' },
  allowUnauthenticated: { flag: '--allow-unauthenticated', env: 'CONPLYENT_SERVER_ALLOW_UNAUTHENTICATED', file: 'server.allowUnauthenticated', kind: 'bool' },
  maxPacketBytes: { flag: '--max-packet-bytes', env: 'CONPLYENT_SERVER_MAX_PACKET_BYTES', file: 'server.maxPacketBytes', kind: 'number' },
  dataDir: { flag: '--data-dir', env: 'CONPLYENT_SERVER_DATA_DIR', file: 'server.dataDir', kind: 'path' },
  withAgent: { flag: '--with-agent', kind: 'bool' },
  logLevel: connectionFields.logLevel!,
};

/** Reads every field of a table; returns values and where each came from. */
function gather(layers: Layers, fields: Record<string, FieldSpec>, out: Record<string, unknown>, sources: Map<string, string>): void {
  for (const [key, spec] of Object.entries(fields)) {
    const got = pick(layers, spec);
    if (got === undefined) continue;
    out[key] = got.value;
    sources.set(key, got.source);
  }
}

const port = z.number().int().min(0).max(65535);
const nonNeg = z.number().int().nonnegative();
const brokerUrl = z.string().refine((s) => {
  try {
    return ['mqtt:', 'mqtts:', 'ws:', 'wss:', 'tcp:', 'ssl:'].includes(new URL(s).protocol);
  } catch {
    return false;
  }
}, 'expected a URL such as mqtt://host:1883 (mqtt, mqtts, ws or wss)');
const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

const connectionSchema = z.object({
  broker: brokerUrl,
  username: z.string().min(1).optional(),
  password: z.string().optional(),
  passwordFile: z.string().optional(),
  ca: z.string().optional(),
  cert: z.string().optional(),
  key: z.string().optional(),
  insecure: z.boolean(),
  logLevel,
  configFile: z.string().optional(),
});

const agentSchema = connectionSchema
  .extend({
    name: z.string().regex(HOST_NAME_RE, `expected a host name matching ${HOST_NAME_RE}`),
    labels: z.record(z.string(), z.string()),
    stateDir: z.string().min(1),
    keepaliveSec: z.number().int().min(1).max(65535),
    reconnectMinMs: nonNeg,
    reconnectMaxMs: nonNeg,
    spoolMemoryBytes: nonNeg,
    spoolDiskBytes: nonNeg,
    replayRetentionMs: nonNeg,
    clockSkewMs: nonNeg,
    plugins: z.array(z.string().min(1)),
  })
  .refine((c) => c.reconnectMinMs <= c.reconnectMaxMs, { path: ['reconnectMinMs'], message: 'must not exceed reconnectMaxMs' });

const controllerSchema = connectionSchema.extend({
  timeoutMs: nonNeg,
  ttlMs: z.number().int().min(1).max(MAX_TTL_MS),
  json: z.boolean(),
  clientId: z.string().min(1).optional(),
});

const brokerSchema = z.object({
  host: z.string().min(1),
  port,
  wsPort: port.optional(),
  tls: z.object({ port, cert: z.string(), key: z.string(), ca: z.string().optional() }).optional(),
  usersFile: z.string().optional(),
  allowUnauthenticated: z.boolean(),
  maxPacketBytes: z.number().int().positive(),
  dataDir: z.string().optional(),
  withAgent: z.boolean(),
  logLevel,
  configFile: z.string().optional(),
});

/** The state directory an agent uses when none is given: per user, or system-wide for root. */
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
    return validate(agentSchema, raw, sources, part) as ConfigFor<P>;
  }
  Object.assign(raw, { timeoutMs: DEFAULT_CONTROLLER_TIMEOUT_MS, ttlMs: DEFAULT_TTL_MS, json: false });
  gather(layers, controllerFields, raw, sources);
  return validate(controllerSchema, raw, sources, part) as ConfigFor<P>;
}

/** The config as pretty JSON with secrets masked, for `--print-config`. */
export function printConfig(cfg: object): string {
  return JSON.stringify(cfg, (k, v) => (k === 'password' && v !== undefined ? '***' : v), 2);
}
