// The connection settings the agent and the controller share, as one zod schema with its defaults:
// the agent's options, the controller's options and the CLI's config all validate with it.
import { z } from 'zod';
import { lazySchema } from '../protocol/lazy-schema.js';

export const linkSettingsSchema = lazySchema(() => z.object({
  /** MQTT user name; with auth, an agent's user name is its host name. */
  username: z.string().min(1).optional(),
  password: z.string().optional(),
  /** CA bundle: a file path or PEM text. */
  ca: z.string().min(1).optional(),
  /** Client certificate: a file path or PEM text. */
  cert: z.string().min(1).optional(),
  /** Client key: a file path or PEM text. */
  key: z.string().min(1).optional(),
  /** Skip TLS certificate verification (test brokers only). */
  insecure: z.boolean().default(false),
  /**
   * MQTT keepalive in seconds; a dead link is noticed within 1.5x this (MQTT 3.1.1 §3.1.2.10). It is
   * a 16-bit field, and 0 would switch the check off: a half-open link would then never be noticed.
   */
  keepaliveSec: z.number().int().min(1).max(65535).default(30),
}));

/** The default a schema field declares (its `.default(...)`); undefined when it has none. */
export function defaultOf(schema: { shape: Record<string, z.ZodType> }, key: string): unknown {
  return schema.shape[key]?.safeParse(undefined).data;
}

export type LinkSettings = z.output<typeof linkSettingsSchema>;
export type LinkSettingsInput = z.input<typeof linkSettingsSchema>;

/**
 * Parses library options with a schema; the first problem becomes a TypeError naming the option and
 * the value given, e.g. `agent option keepaliveSec: Too small: expected number to be >=1, got 0`.
 */
export function parseOptions<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const path = issue.path.map(String).join('.');
  let got: unknown = value;
  for (const k of issue.path) got = got !== null && typeof got === 'object' ? (got as Record<PropertyKey, unknown>)[k] : undefined;
  const shown = typeof got === 'number' ? String(got) : JSON.stringify(got);
  throw new TypeError(`${what} ${path}: ${issue.message.replace(/^Invalid input: /, '')}, got ${shown}`);
}
