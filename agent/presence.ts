// Presence payloads [cp-presence-*]: online with facts on every connect, the Last Will for offline,
// and the incarnation (boot, conn) that keeps a late Will from lying.
import os from 'node:os';
import { FOLD_FEATURE, OUTPUT_ENCODINGS, PROTOCOL_VERSION, type CommandInfo, type Presence, type StateProblem } from '../protocol/index.js';
import type { StateHealth } from './state/health.js';
import { AGENT_VERSION } from './version.js';

export interface PresenceState {
  host: string;
  boot: number;
  conn: number;
  startedAt: number;
  labels: Record<string, string>;
  commands: () => CommandInfo[];
  /** Heartbeat interval in seconds [cp-presence-7]. */
  hbSec: number;
  /** When the current connection came online (the `since` of every heartbeat on it). */
  onlineSince?: number;
  /** The agent's public key (text form) and whether it refuses unsigned commands [cp-sig-7]. */
  key?: string;
  requireSigned?: () => boolean;
  state: () => StateHealth;
}

export function facts(): NonNullable<Presence['facts']> {
  return {
    os: os.type(),
    platform: process.platform,
    release: os.release(),
    arch: process.arch,
    hostname: os.hostname(),
    agentVersion: AGENT_VERSION,
    nodeVersion: process.version,
  };
}

/** The online status; a heartbeat republishes it with the same `since` and a new `hb` [cp-presence-7]. */
export function onlinePresence(s: PresenceState, now = Date.now()): Presence {
  return {
    v: PROTOCOL_VERSION,
    host: s.host,
    online: true,
    boot: s.boot,
    conn: s.conn,
    since: s.onlineSince ?? now,
    startedAt: s.startedAt,
    hb: now,
    hbSec: s.hbSec,
    facts: facts(),
    labels: s.labels,
    commands: s.commands(),
    out: [...OUTPUT_ENCODINGS],
    features: [FOLD_FEATURE],
    ...(s.key ? { key: s.key } : {}),
    ...(s.requireSigned?.() ? { requireSigned: true } : {}),
    ...stateProblem(s.state()),
  };
}

/** [cp-state-3] the state directory's trouble, announced for as long as it lasts. */
function stateProblem(h: StateHealth): { state?: StateProblem } {
  if (h.status === 'ok') return {};
  return { state: { status: h.status, since: h.since, ...(h.status === 'damaged' ? { until: h.until } : {}), reason: h.reason } };
}

/** The Will carries no `since`: the broker publishes it at a time we cannot know. */
export function offlinePresence(s: PresenceState, reason: 'will' | 'shutdown' | 'close_server'): Presence {
  return {
    v: PROTOCOL_VERSION,
    host: s.host,
    online: false,
    boot: s.boot,
    conn: s.conn,
    since: reason === 'will' ? null : Date.now(),
    startedAt: s.startedAt,
    reason,
    labels: s.labels,
    commands: [],
  };
}
