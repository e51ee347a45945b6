// The JSON config file (`--config FILE`): one strict schema, so a typo is an error naming the field
// instead of a setting silently ignored. docs/config.md documents this shape with an example.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ConfigError, formatIssue } from './config-error.js';
import { lazySchema } from '../protocol/lazy-schema.js';
import { agentSectionSchema, brokerSchema, connectionSchema, controllerSectionSchema, fileSection } from './config-fields.js';

// Built when a config file is read: the verbs that run without one never build the other parts' sections.
export const configFileSchema = lazySchema(() => {
  const str = z.string().min(1);
  const server = brokerSchema.shape;
  const conn = connectionSchema.shape;
  return z.strictObject({
    // Lets editors validate the file; ignored here.
    $schema: z.string().optional(),
    ...fileSection({ broker: conn.broker, username: conn.username, passwordFile: conn.passwordFile, logLevel: conn.logLevel }).shape,
    tls: fileSection({ ca: conn.ca, cert: conn.cert, key: conn.key, insecure: conn.insecure }).optional(),
    agent: fileSection(agentSectionSchema.shape).optional(),
    controller: fileSection(controllerSectionSchema.shape).optional(),
    server: fileSection({
      host: server.host,
      port: server.port,
      wsPort: server.wsPort,
      // The listener's parts may come from different layers (port from a flag, files from the file); checked whole later.
      tls: z.strictObject({ port: server.port.unwrap().optional(), cert: str.optional(), key: str.optional(), ca: str.optional() }),
      usersFile: server.usersFile,
      allowUnauthenticated: server.allowUnauthenticated,
      maxPacketBytes: server.maxPacketBytes,
      dataDir: server.dataDir,
      cluster: server.cluster,
      connectTimeoutMs: server.connectTimeoutMs,
      maxUnsentBytes: server.maxUnsentBytes,
    }).optional(),
  });
});

export type ConfigFile = z.infer<typeof configFileSchema>;

/** Reads and validates a config file; every failure is a ConfigError naming the file and field. */
export async function loadConfigFile(path: string): Promise<ConfigFile> {
  const where = `config file ${path}`;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`${where}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${where}: invalid JSON (${(err as Error).message})`);
  }
  if (raw !== null && typeof raw === 'object' && !Array.isArray(raw) && 'password' in raw) {
    throw new ConfigError(`${where}: password: not allowed; use "passwordFile" or env CONPLYENT_PASSWORD`);
  }
  const parsed = configFileSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(`${where}: ${formatIssue(parsed.error.issues[0]!)}`);
  return parsed.data;
}
