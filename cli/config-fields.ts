// Where every setting comes from (flag, env var, config-file key) and the rules its final value must
// satisfy, with its default. docs/config.md mirrors these tables.
import { z } from 'zod';
import { agentSettingsSchema, withBackoffOrder } from '../agent/options.js';
import { DEFAULT_BROKER_HOST, DEFAULT_BROKER_PORT, DEFAULT_MAX_PACKET_BYTES } from '../broker/options.js';
import { brokerListSchema } from '../link/broker-list.js';
import { linkSettingsSchema } from '../link/settings.js';
import { DEFAULT_TTL_MS, MAX_TTL_MS } from '../protocol/index.js';
import { lazySchema } from '../protocol/lazy-schema.js';
import type { FieldSpec } from './config-layers.js';

export const connectionFields: Record<string, FieldSpec> = {
  broker: { flag: '--broker', env: 'CONPLYENT_BROKER', file: 'broker', kind: 'string' },
  username: { flag: '--username', env: 'CONPLYENT_USERNAME', file: 'username', kind: 'string' },
  ca: { flag: '--ca', env: 'CONPLYENT_CA', file: 'tls.ca', kind: 'path' },
  cert: { flag: '--cert', env: 'CONPLYENT_CERT', file: 'tls.cert', kind: 'path' },
  key: { flag: '--key', env: 'CONPLYENT_KEY', file: 'tls.key', kind: 'path' },
  insecure: { flag: '--insecure', env: 'CONPLYENT_INSECURE', file: 'tls.insecure', kind: 'bool' },
  logLevel: { flag: '--log-level', env: 'CONPLYENT_LOG_LEVEL', file: 'logLevel', kind: 'string' },
};

export const agentFields: Record<string, FieldSpec> = {
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
  heartbeatSec: { flag: '--heartbeat-sec', env: 'CONPLYENT_HEARTBEAT_SEC', file: 'agent.heartbeatSec', kind: 'number' },
  plugins: { flag: '--plugin', env: 'CONPLYENT_PLUGINS', file: 'agent.plugins', kind: 'modules' },
  policyFile: { flag: '--policy', env: 'CONPLYENT_POLICY', file: 'agent.policyFile', kind: 'path' },
  requireSigned: { flag: '--require-signed', env: 'CONPLYENT_REQUIRE_SIGNED', file: 'agent.requireSigned', kind: 'bool' },
  trustedKeys: { flag: '--trusted-key', env: 'CONPLYENT_TRUSTED_KEYS', file: 'agent.trustedKeys', kind: 'list' },
  keyFile: { flag: '--signing-key', env: 'CONPLYENT_KEY_FILE', file: 'agent.keyFile', kind: 'path' },
  maxJobs: { flag: '--max-jobs', env: 'CONPLYENT_MAX_JOBS', file: 'agent.maxJobs', kind: 'number' },
};

export const controllerFields: Record<string, FieldSpec> = {
  timeoutMs: { flag: '--timeout', env: 'CONPLYENT_TIMEOUT', file: 'controller.timeoutMs', kind: 'number', scale: 1000 },
  ttlMs: { flag: '--ttl', env: 'CONPLYENT_TTL', file: 'controller.ttlMs', kind: 'number', scale: 1000 },
  json: { flag: '--json', env: 'CONPLYENT_JSON', file: 'controller.json', kind: 'bool' },
  clientId: { flag: '--client-id', env: 'CONPLYENT_CLIENT_ID', file: 'controller.clientId', kind: 'string' },
  // --signing-key, not --key: --key is the TLS client key of every part (connectionFields).
  keyFile: { flag: '--signing-key', env: 'CONPLYENT_KEY_FILE', file: 'controller.keyFile', kind: 'path' },
  knownHosts: { flag: '--known-hosts', env: 'CONPLYENT_KNOWN_HOSTS', file: 'controller.knownHosts', kind: 'path' },
};

/**
 * A config file is copied, shared and checked in far more often than a 0600 key file: a private key
 * pasted into it would leak with it. Only the path is accepted.
 */
const keyFilePath = lazySchema(() => z
  .string()
  .min(1)
  .refine((s) => !/-----BEGIN|PRIVATE KEY|[\r\n]/.test(s), 'must be the path of a key file, not the key itself: keep the key in its own file (mode 0600, conplyent key create NAME) and give its path'));

export const brokerFields: Record<string, FieldSpec> = {
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
  cluster: { flag: '--cluster', env: 'CONPLYENT_SERVER_CLUSTER', file: 'server.cluster', kind: 'string' },
  connectTimeoutMs: { flag: '--connect-timeout-ms', env: 'CONPLYENT_SERVER_CONNECT_TIMEOUT_MS', file: 'server.connectTimeoutMs', kind: 'number' },
  maxUnsentBytes: { flag: '--max-unsent-bytes', env: 'CONPLYENT_SERVER_MAX_UNSENT_BYTES', file: 'server.maxUnsentBytes', kind: 'number' },
  withAgent: { flag: '--with-agent', kind: 'bool' },
  logLevel: connectionFields.logLevel!,
};

const port = lazySchema(() => z.number().int().min(0).max(65535));
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
const logLevel = lazySchema(() => z.enum(LOG_LEVELS).default('info'));

export const DEFAULT_BROKER_URL = `mqtt://${DEFAULT_BROKER_HOST}:${DEFAULT_BROKER_PORT}`;

/** How agent and controller reach the broker. `password` is read from a file or env, never a flag. */
export const connectionSchema = lazySchema(() => linkSettingsSchema.omit({ keepaliveSec: true }).extend({
  /** One URL or several, comma-separated: the nodes of one cluster [cp-conn-7]. */
  broker: brokerListSchema.default([DEFAULT_BROKER_URL]),
  /** Where the password came from, so `agent install` can reference it instead of copying it. */
  passwordFile: z.string().optional(),
  logLevel,
  /** The config file that was read, if any. */
  configFile: z.string().optional(),
}));

/** The agent's own section (config file `agent`): settings the CLI exposes, with the agent library's rules and defaults, and plugins. */
export const agentSectionSchema = lazySchema(() => agentSettingsSchema
  .pick({
    name: true,
    labels: true,
    stateDir: true,
    keepaliveSec: true,
    reconnectMinMs: true,
    reconnectMaxMs: true,
    spoolMemoryBytes: true,
    spoolDiskBytes: true,
    replayRetentionMs: true,
    clockSkewMs: true,
    heartbeatSec: true,
    policyFile: true,
    requireSigned: true,
    trustedKeys: true,
    keyFile: true,
    maxJobs: true,
  })
  .extend({
    /** Absolute paths or package names; each default-exports `(agent) => void`. */
    plugins: z.array(z.string().min(1)).default([]),
  }));

export const agentSchema = lazySchema(() => withBackoffOrder(connectionSchema.extend(agentSectionSchema.shape)).refine(
  (c) => !c.requireSigned || c.trustedKeys.length > 0 || c.policyFile !== undefined,
  { path: ['requireSigned'], message: 'needs --trusted-key or a --policy with keys: otherwise no command could ever run' },
));

/** The controller's own section (config file `controller`). */
export const controllerSectionSchema = lazySchema(() => z.object({
  // 0 would be a job killed at once; "no timeout" is not offered on purpose: hosts that never answer must end.
  timeoutMs: z.number().int().min(1, 'must be more than 0').default(30_000),
  // No default here: unset means "just past the wait" unless --queue (cli/controller/job-flags.ts).
  ttlMs: z.number().int().min(1).max(MAX_TTL_MS).optional(),
  json: z.boolean().default(false),
  clientId: z.string().min(1).optional(),
  /** Private key every command is signed with [cp-sig-*] (a path; never key material). */
  keyFile: keyFilePath.optional(),
  /** Pinned agent keys, `HOST PUBLIC-KEY` per line; hosts seen for the first time are appended. */
  knownHosts: z.string().min(1).optional(),
}));

export const controllerSchema = lazySchema(() => connectionSchema.extend(controllerSectionSchema.shape));

export const brokerSchema = lazySchema(() => z.object({
  host: z.string().min(1).default(DEFAULT_BROKER_HOST),
  port: port.default(DEFAULT_BROKER_PORT),
  wsPort: port.optional(),
  tls: z.object({ port, cert: z.string(), key: z.string(), ca: z.string().optional() }).optional(),
  usersFile: z.string().optional(),
  allowUnauthenticated: z.boolean().default(false),
  maxPacketBytes: z.number().int().positive().default(DEFAULT_MAX_PACKET_BYTES),
  dataDir: z.string().optional(),
  /** redis:// URL shared by several brokers (broker/cluster.ts). */
  cluster: z.string().refine((s) => /^rediss?:\/\//.test(s), 'must be a redis:// or rediss:// URL').optional(),
  // Defaults of these two live in broker/options.ts, where the broker library applies them.
  connectTimeoutMs: z.number().int().positive().optional(),
  maxUnsentBytes: z.number().int().positive().optional(),
  withAgent: z.boolean().default(false),
  logLevel,
  configFile: z.string().optional(),
}));

/**
 * A config-file section with the rules of the final config: every field optional and without its
 * default, because a default filled in here would count as set in the file and hide env and flags.
 */
export function fileSection(shape: Record<string, z.ZodType>) {
  return z.strictObject(Object.fromEntries(Object.entries(shape).map(([k, s]) => [k, (s instanceof z.ZodDefault ? (s.unwrap() as z.ZodType) : s).optional()])));
}
