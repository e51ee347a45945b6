// The JSON config file (`--config FILE`): one strict schema, so a typo is an error naming the field
// instead of a setting silently ignored. docs/config.md documents this shape with an example.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ConfigError, formatIssue } from './config-error.js';

const str = z.string().min(1);
const nonNeg = z.number().int().nonnegative();
const port = z.number().int().min(0).max(65535);
const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

const agentSection = z.strictObject({
  name: str.optional(),
  labels: z.record(z.string(), z.string()).optional(),
  stateDir: str.optional(),
  keepaliveSec: nonNeg.optional(),
  reconnectMinMs: nonNeg.optional(),
  reconnectMaxMs: nonNeg.optional(),
  spoolMemoryBytes: nonNeg.optional(),
  spoolDiskBytes: nonNeg.optional(),
  replayRetentionMs: nonNeg.optional(),
  clockSkewMs: nonNeg.optional(),
  plugins: z.array(str).optional(),
});

const controllerSection = z.strictObject({
  timeoutMs: nonNeg.optional(),
  ttlMs: nonNeg.optional(),
  json: z.boolean().optional(),
  clientId: str.optional(),
});

const serverSection = z.strictObject({
  host: str.optional(),
  port: port.optional(),
  wsPort: port.optional(),
  tls: z
    .strictObject({ port: port.optional(), cert: str.optional(), key: str.optional(), ca: str.optional() })
    .optional(),
  usersFile: str.optional(),
  allowUnauthenticated: z.boolean().optional(),
  maxPacketBytes: z.number().int().positive().optional(),
  dataDir: str.optional(),
  cluster: str.optional(),
});

export const configFileSchema = z.strictObject({
    // Lets editors validate the file; ignored here.
    $schema: z.string().optional(),
    broker: str.optional(),
    username: str.optional(),
    passwordFile: str.optional(),
    logLevel: logLevel.optional(),
    tls: z
      .strictObject({ ca: str.optional(), cert: str.optional(), key: str.optional(), insecure: z.boolean().optional() })
      .optional(),
    agent: agentSection.optional(),
    controller: controllerSection.optional(),
    server: serverSection.optional(),
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
