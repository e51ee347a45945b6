// Where every setting comes from (flag, env var, config-file key) and the rules its final value must
// satisfy. docs/config.md mirrors these tables.
import { z } from 'zod';
import { HOST_NAME_RE, MAX_TTL_MS } from '../protocol/index.js';
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
  plugins: { flag: '--plugin', env: 'CONPLYENT_PLUGINS', file: 'agent.plugins', kind: 'modules' },
};

export const controllerFields: Record<string, FieldSpec> = {
  timeoutMs: { flag: '--timeout', env: 'CONPLYENT_TIMEOUT', file: 'controller.timeoutMs', kind: 'number', scale: 1000 },
  ttlMs: { flag: '--ttl', env: 'CONPLYENT_TTL', file: 'controller.ttlMs', kind: 'number', scale: 1000 },
  json: { flag: '--json', env: 'CONPLYENT_JSON', file: 'controller.json', kind: 'bool' },
  clientId: { flag: '--client-id', env: 'CONPLYENT_CLIENT_ID', file: 'controller.clientId', kind: 'string' },
};

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
  withAgent: { flag: '--with-agent', kind: 'bool' },
  logLevel: connectionFields.logLevel!,
};

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

export const connectionSchema = z.object({
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

export const agentSchema = connectionSchema
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

export const controllerSchema = connectionSchema.extend({
  // 0 would be a job killed at once; "no timeout" is not offered on purpose: hosts that never answer must end.
  timeoutMs: z.number().int().min(1, 'must be more than 0'),
  ttlMs: z.number().int().min(1).max(MAX_TTL_MS),
  json: z.boolean(),
  clientId: z.string().min(1).optional(),
});

export const brokerSchema = z.object({
  host: z.string().min(1),
  port,
  wsPort: port.optional(),
  tls: z.object({ port, cert: z.string(), key: z.string(), ca: z.string().optional() }).optional(),
  usersFile: z.string().optional(),
  allowUnauthenticated: z.boolean(),
  maxPacketBytes: z.number().int().positive(),
  dataDir: z.string().optional(),
  cluster: z.string().refine((s) => /^rediss?:\/\//.test(s), 'must be a redis:// or rediss:// URL').optional(),
  withAgent: z.boolean(),
  logLevel,
  configFile: z.string().optional(),
});

