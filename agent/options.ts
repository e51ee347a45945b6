// Agent options: one zod schema holds every setting's rule and default (the CLI's agent config
// extends it); resolveAgentOptions validates with it once, at the edge, and the inside trusts it.
import type { Logger } from 'pino';
import type Pino from 'pino';
import { createRequire } from 'node:module';
import type { KeyObject } from 'node:crypto';
import { join } from 'node:path';
import { z } from 'zod';
import { brokerListSchema } from '../link/broker-list.js';
import { defaultOf, linkSettingsSchema, parseOptions } from '../link/settings.js';
import { DEFAULT_CLOCK_SKEW_MS, HOST_NAME_RE, isHostName, parseLabels } from '../protocol/index.js';

import type { PowerFn } from './jobs/power.js';
import { loadTrustedKeys } from './trust/keys.js';
import { lazySchema } from '../protocol/lazy-schema.js';

export type { PowerFn };

const positiveInt = lazySchema(() => z.number().int().positive());
const MiB = 1024 * 1024;

/** Labels as the wire carries them [cp-name-3]: the message is parseLabels' own. */
const labelsSchema = lazySchema(() => z.record(z.string(), z.string()).superRefine((labels, ctx) => {
  try {
    parseLabels(Object.entries(labels).map(([k, v]) => `${k}=${v}`));
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
  }
}));

export const agentSettingsSchema = lazySchema(() => linkSettingsSchema.extend({
  /**
   * Broker URL, or several (an array or `a,b,c`): the nodes of one cluster, dialled in turn, the
   * next one after every close [cp-conn-7]. Schemes: BROKER_SCHEMES (link/broker-url.ts).
   */
  broker: brokerListSchema,
  /** Host name; also the MQTT client id and, with auth, the user name. */
  name: z.string().refine(isHostName, `expected a host name matching ${HOST_NAME_RE} (and not "all")`),
  labels: labelsSchema.default({}),
  /** Where boot counter, seen ids, running jobs and the disk spool live. */
  stateDir: z.string().min(1),
  /** Reconnect backoff: exponential from min to max with full jitter. */
  reconnectMinMs: positiveInt.default(500),
  reconnectMaxMs: positiveInt.default(30_000),
  /** Unpublished events kept in memory while disconnected, then on disk. */
  spoolMemoryBytes: positiveInt.default(8 * MiB),
  spoolDiskBytes: positiveInt.default(256 * MiB),
  /** How long events of a finished job stay available to `replay`, and how many bytes in all. */
  replayRetentionMs: positiveInt.default(10 * 60 * 1000),
  replayBytes: positiveInt.default(32 * MiB),
  /** Finished jobs kept for replay at most (each costs some heap beyond its events). */
  replayJobs: positiveInt.default(1000),
  /** Allowed sender/agent clock difference for TTL checks. NaN would make every seen-id and TTL comparison false: dedupe and expiry silently off. */
  clockSkewMs: z.number().int().nonnegative().default(DEFAULT_CLOCK_SKEW_MS),
  /**
   * Seconds between heartbeats: the retained online status republished with a new `hb`, so
   * controllers can tell a host whose broker node died (no Will comes) [cp-presence-7]. Each costs
   * one status message (about 3 KB with the built-in command list) per agent per interval.
   */
  heartbeatSec: positiveInt.max(86_400).default(60),
  /** How many events of one job may await PUBACK before its output is paused. */
  windowSize: positiveInt.default(32),
  /** Policy file (docs/policy.md): which keys may run what, where, as whom. Reloaded on SIGHUP and on change. */
  policyFile: z.string().min(1).optional(),
  /** Refuse unsigned commands (UNSIGNED) [cp-sig-5]; needs trustedKeys or a policy with keys. */
  requireSigned: z.boolean().default(false),
  /** Controller keys whose signatures are verified: base64 public keys or key files. Without a policy, any of them may do anything. */
  trustedKeys: z.array(z.string().min(1)).default([]),
  /** The agent's own signing key (PKCS#8 PEM), created there once when missing; default `<stateDir>/agent.key`. */
  keyFile: z.string().min(1).optional(),
  /** Most jobs running at once (job control exempt); past it a command is refused with BUSY. */
  maxJobs: positiveInt.max(100_000).default(64),
}));

/** The longest reconnect delay unless told otherwise (written once, in the schema). */
const defaultReconnectMaxMs = () => defaultOf(agentSettingsSchema, 'reconnectMaxMs') as number;

/**
 * The backoff runs from min to max. A max left unset follows a larger min (a caller asking for slow
 * reconnects gets them); a max set below the min is a mistake worth naming, not a value to clamp.
 * Applied to the agent's options here and to the CLI's agent config (cli/config-fields.ts).
 */
export function withBackoffOrder<T extends { reconnectMinMs: number; reconnectMaxMs: number }>(schema: z.ZodType<T>): z.ZodType<T> {
  const ordered = schema.refine((s) => s.reconnectMinMs <= s.reconnectMaxMs, { path: ['reconnectMinMs'], message: 'must not exceed reconnectMaxMs' });
  return z.preprocess((o) => {
    if (o === null || typeof o !== 'object') return o;
    const { reconnectMinMs: min, reconnectMaxMs: max } = o as Record<string, unknown>;
    if (max !== undefined || typeof min !== 'number') return o;
    return { ...o, reconnectMaxMs: Math.max(min, defaultReconnectMaxMs()) };
  }, ordered) as unknown as z.ZodType<T>;
}

const agentOptionsSchema = lazySchema(() => withBackoffOrder(agentSettingsSchema));

/** What createAgent takes: every setting of agentSettingsSchema (defaults there), a logger and the power hook. */
export type AgentOptions = z.input<typeof agentSettingsSchema> & {
  /** pino logger; silent when absent. */
  logger?: Logger;
  /** Carries out reboot and shutdown; the default calls the system's own commands. */
  power?: PowerFn;
};

export type ResolvedAgentOptions = Omit<z.output<typeof agentSettingsSchema>, 'trustedKeys' | 'keyFile'> & {
  logger: Logger;
  power?: PowerFn;
  /** Trusted controller keys by key id, loaded from the texts and files given. */
  trustedKeys: Map<string, KeyObject>;
  keyFile: string;
};

// pino only for an agent given no logger: the CLI's config imports this module's schemas, and
// evaluating pino there cost every controller verb's start (BENCHMARKS.md, issue 17). pino is
// CommonJS, so require() loads the same instance an `import` would.
const require = createRequire(import.meta.url);
const silentLogger = (): Logger => (require('pino') as typeof Pino)({ level: 'silent' });

export function resolveAgentOptions(o: AgentOptions): ResolvedAgentOptions {
  const settings = parseOptions(agentOptionsSchema, o, 'agent option');
  const trustedKeys = loadTrustedKeys(settings.trustedKeys);
  // A policy may bring its own keys, so this can only be checked without one.
  if (settings.requireSigned && trustedKeys.size === 0 && !settings.policyFile) {
    throw new TypeError('agent option requireSigned needs trustedKeys (or a policyFile with keys): otherwise no command could ever run');
  }
  const keyFile = settings.keyFile ?? join(settings.stateDir, 'agent.key');
  return { ...settings, trustedKeys, keyFile, logger: o.logger ?? silentLogger(), power: o.power };
}
