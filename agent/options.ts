// Agent options, normalised once at the edge; the inside trusts them.
import type { Logger } from 'pino';
import pino from 'pino';
import { DEFAULT_CLOCK_SKEW_MS, isHostName, parseLabels } from '../protocol/index.js';

import type { PowerFn } from './jobs/power.js';

export type { PowerFn };

export interface AgentOptions {
  /** Broker URL: mqtt://, mqtts://, ws:// or wss://. */
  broker: string;
  /** Host name; also the MQTT client id and, with auth, the user name. */
  name: string;
  labels?: Record<string, string>;
  username?: string;
  password?: string;
  /** TLS files (paths). */
  ca?: string;
  cert?: string;
  key?: string;
  insecure?: boolean;
  /** Where boot counter, seen ids, running jobs and the disk spool live. */
  stateDir: string;
  /** MQTT keepalive; a dead link is noticed within 1.5x this. Default 30 s. */
  keepaliveSec?: number;
  /** Reconnect backoff: exponential from min to max with full jitter. Defaults 500 ms / 30 s. */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** Unpublished events kept in memory while disconnected, then on disk. Defaults 8 MiB / 256 MiB. */
  spoolMemoryBytes?: number;
  spoolDiskBytes?: number;
  /** How long events of a finished job stay available to `replay`, and how many bytes in all. Defaults 10 min / 32 MiB. */
  replayRetentionMs?: number;
  replayBytes?: number;
  /** Finished jobs kept for replay at most (each costs some heap beyond its events). Default 1000. */
  replayJobs?: number;
  /** Allowed sender/agent clock difference for TTL checks. Default 5 s. */
  clockSkewMs?: number;
  /** How many events of one job may await PUBACK before its output is paused. Default 32. */
  windowSize?: number;
  logger?: Logger;
  power?: PowerFn;
}

export type ResolvedAgentOptions = Required<Omit<AgentOptions, 'username' | 'password' | 'ca' | 'cert' | 'key' | 'power'>> &
  Pick<AgentOptions, 'username' | 'password' | 'ca' | 'cert' | 'key' | 'power'>;

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new TypeError(`agent option ${name} must be a positive number, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** NaN here would make every seen-id and TTL comparison false: dedupe and expiry silently off. */
function nonNegative(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new TypeError(`agent option ${name} must be a non-negative number, got ${typeof value === 'number' ? value : JSON.stringify(value)}`);
  }
  return value;
}

export function resolveAgentOptions(o: AgentOptions): ResolvedAgentOptions {
  if (!isHostName(o.name)) throw new TypeError(`agent name "${o.name}" must match [A-Za-z0-9][A-Za-z0-9_.-]{0,63}`);
  if (!o.broker) throw new TypeError('agent option broker is required (e.g. mqtt://localhost:1883)');
  if (!o.stateDir) throw new TypeError('agent option stateDir is required');
  const labels = o.labels ?? {};
  parseLabels(Object.entries(labels).map(([k, v]) => `${k}=${v}`));
  const min = positive('reconnectMinMs', o.reconnectMinMs, 500);
  return {
    ...o,
    labels,
    insecure: o.insecure ?? false,
    keepaliveSec: positive('keepaliveSec', o.keepaliveSec, 30),
    reconnectMinMs: min,
    reconnectMaxMs: Math.max(min, positive('reconnectMaxMs', o.reconnectMaxMs, 30_000)),
    spoolMemoryBytes: positive('spoolMemoryBytes', o.spoolMemoryBytes, 8 * 1024 * 1024),
    spoolDiskBytes: positive('spoolDiskBytes', o.spoolDiskBytes, 256 * 1024 * 1024),
    replayRetentionMs: positive('replayRetentionMs', o.replayRetentionMs, 10 * 60 * 1000),
    replayBytes: positive('replayBytes', o.replayBytes, 32 * 1024 * 1024),
    replayJobs: positive('replayJobs', o.replayJobs, 1000),
    clockSkewMs: nonNegative('clockSkewMs', o.clockSkewMs, DEFAULT_CLOCK_SKEW_MS),
    windowSize: positive('windowSize', o.windowSize, 32),
    logger: o.logger ?? pino({ level: 'silent' }),
  };
}
