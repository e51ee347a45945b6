// Presence [cp-presence-*]: the retained conplyent/<host>/status message.
import { z } from 'zod';
import { PUBLIC_KEY_TEXT_RE } from './keys.js';
import { lazySchema } from './lazy-schema.js';

export const CommandInfoSchema = lazySchema(() => z.object({
  name: z.string(),
  kind: z.enum(['foreground', 'background']),
  /** Argument hint for people and editors, e.g. `<path> [--recursive]`. */
  usage: z.string().optional(),
  summary: z.string().optional(),
}));
export type CommandInfo = z.infer<typeof CommandInfoSchema>;

export const FactsSchema = lazySchema(() => z.object({
  os: z.string(),
  platform: z.string(),
  release: z.string(),
  arch: z.string(),
  hostname: z.string(),
  agentVersion: z.string(),
  nodeVersion: z.string(),
}));
export type Facts = z.infer<typeof FactsSchema>;

/**
 * Present only when the agent's state directory is not healthy [cp-state-3]: `damaged` (ids recorded
 * before `since` may be lost; commands not provably newer are refused with STATE_DAMAGED until
 * `until`) or `unavailable` (no id can be recorded; every command is refused with STATE_UNAVAILABLE).
 */
export const StateProblemSchema = lazySchema(() => z.object({
  status: z.enum(['damaged', 'unavailable']),
  since: z.number(),
  until: z.number().optional(),
  reason: z.string(),
}));
export type StateProblem = z.infer<typeof StateProblemSchema>;

export const PresenceSchema = lazySchema(() => z.object({
  v: z.literal(1),
  host: z.string(),
  online: z.boolean(),
  /**
   * Incarnation [cp-presence-3]: `boot` counts agent starts, `conn` counts connections within a
   * start. (boot, conn) only grows, so a receiver ignores any status older than the newest it
   * has seen: a late Last Will of an old connection never overrides a newer "online".
   */
  boot: z.number().int().nonnegative(),
  conn: z.number().int().nonnegative(),
  /** Epoch ms since when this state holds; null in a Last Will (the broker sends it, not us) [cp-presence-5]. */
  since: z.number().nullable(),
  /** When this agent process started, epoch ms. */
  startedAt: z.number(),
  /**
   * Online only: epoch ms of this heartbeat. The agent republishes its online status every `hbSec`
   * seconds with a new `hb`, because a Last Will never comes when the broker node holding the
   * connection dies [cp-presence-7].
   */
  hb: z.number().optional(),
  /** Online only: the heartbeat interval the agent keeps, in seconds; receivers judge staleness by it [cp-presence-8]. */
  hbSec: z.number().int().positive().optional(),
  /** offline only: 'will' (connection lost), 'shutdown' (clean stop), 'close_server'. */
  reason: z.string().optional(),
  facts: FactsSchema.optional(),
  labels: z.record(z.string(), z.string()).default({}),
  commands: z.array(CommandInfoSchema).default([]),
  /** The agent's ed25519 public key (base64 of the raw 32 bytes), which signs its terminal events [cp-sig-7]. */
  key: z.string().regex(PUBLIC_KEY_TEXT_RE, 'key must be base64 of 32 bytes').optional(),
  /** True when the agent refuses unsigned commands [cp-sig-7]. */
  requireSigned: z.boolean().optional(),
  /**
   * Optional envelope fields this agent understands, `out` [cp-env-13] and `fold` [cp-fold-4]. A
   * sender puts such a field only in commands for hosts that list it: any other agent refuses it as
   * BAD_ENVELOPE [cp-env-10].
   */
  features: z.array(z.string().max(64)).max(64).optional(),
  /** The state directory's trouble, when it has one [cp-state-3]. */
  state: StateProblemSchema.optional(),
}));
export type Presence = z.infer<typeof PresenceSchema>;

/** Missed heartbeats after which a receiver marks an online host stale [cp-presence-8]. */
export const STALE_AFTER_MISSED = 3;

/** True when status `a` is from a later incarnation than `b` (or the same one). */
export function isNewerOrSame(a: Pick<Presence, 'boot' | 'conn'>, b: Pick<Presence, 'boot' | 'conn'>): boolean {
  return a.boot > b.boot || (a.boot === b.boot && a.conn >= b.conn);
}
