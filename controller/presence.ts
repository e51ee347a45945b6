// The live presence view: retained statuses in, one HostInfo per host out. Applies the incarnation
// rule [cp-presence-3] so a late Last Will of an old connection never marks a newer one offline.
import { EventEmitter } from 'node:events';
import { isNewerOrSame, STALE_AFTER_MISSED, type CommandInfo, type Facts, type Presence } from '../protocol/index.js';
import type { HostKeys } from './trust/host-keys.js';
import { compareHosts } from './host-order.js';

export interface HostInfo {
  name: string;
  online: boolean;
  /** Epoch ms since when the current state holds (null when a Last Will did not say). */
  since: number | null;
  /**
   * Epoch ms when the host was last known alive: now while online; when it went offline if that
   * is known (a clean stop says so, or this controller saw it go); null when only a retained Last
   * Will says it is gone (the broker publishes a Will at a time the agent cannot write into it).
   */
  lastSeen: number | null;
  labels: Record<string, string>;
  facts?: Facts;
  commands: CommandInfo[];
  boot: number;
  conn: number;
  /** Why it is offline: 'will', 'shutdown', 'close_server'. */
  reason?: string;
  /** The host refuses unsigned commands [cp-sig-7]. */
  requireSigned?: boolean;
  /** Optional envelope fields the host understands: `out` [cp-env-13], `fold` [cp-fold-4]. */
  features?: string[];
  /** Key id of the key its results are verified with (pinned, not merely announced). */
  keyId?: string;
  /** Presence announced another key than the pinned one: flagged, never adopted [cp-sig-7]. */
  keyChanged?: { pinnedKeyId: string; announcedKeyId: string | null };
  /** Epoch ms when this controller last received a status of the host (a heartbeat or any other). */
  heardAt: number;
  /** The heartbeat interval the host announced, in seconds; absent from agents without heartbeats. */
  hbSec?: number;
  /**
   * Online, but no status for more than STALE_AFTER_MISSED heartbeat intervals: its broker node
   * may have died, taking the Will with it [cp-presence-8]. Targets treat it like offline.
   */
  stale: boolean;
}

export interface PresenceChange {
  host: HostInfo;
  /** The previous view of the host, absent the first time it is seen. */
  previous?: HostInfo;
}

export class PresenceView extends EventEmitter<{ presence: [PresenceChange] }> {
  private readonly byName = new Map<string, HostInfo>();

  constructor(private readonly keys?: HostKeys) {
    super();
  }

  /** Applies a status; returns false when it was older than what we have (ignored). */
  apply(host: string, p: Presence, now = Date.now()): boolean {
    const previous = this.byName.get(host);
    if (previous && !isNewerOrSame(p, previous)) return false;
    if (previous?.online && p.online && previous.boot === p.boot && previous.conn === p.conn && !previous.stale) {
      // A heartbeat of the connection we know: nothing a listener needs to hear about.
      previous.heardAt = now;
      return true;
    }
    // A Last Will is a static payload written at connect time: it may lack labels and facts, so
    // keep what the online status told us.
    const check = this.keys?.observe(host, p.key, p.online) ?? {};
    // A Will does not list features; an online status says what the agent running now understands.
    const features = p.online ? p.features : (p.features ?? previous?.features);
    const info: HostInfo = {
      name: host,
      online: p.online,
      since: p.since ?? (previous && previous.online !== p.online ? now : previous?.since ?? null),
      lastSeen: p.online ? now : (p.since ?? (previous?.online ? now : previous?.lastSeen ?? null)),
      labels: Object.keys(p.labels).length > 0 || !previous ? p.labels : previous.labels,
      facts: p.facts ?? previous?.facts,
      commands: p.commands.length > 0 || !previous ? p.commands : previous.commands,
      boot: p.boot,
      conn: p.conn,
      ...(p.reason ? { reason: p.reason } : {}),
      ...((p.requireSigned ?? (!p.online && previous?.requireSigned)) ? { requireSigned: true } : {}),
      ...(features ? { features } : {}),
      ...(check.pinnedKeyId ? { keyId: check.pinnedKeyId } : {}),
      ...(check.changed && check.pinnedKeyId ? { keyChanged: { pinnedKeyId: check.pinnedKeyId, ...check.changed } } : {}),
      heardAt: now,
      ...(p.online && p.hbSec ? { hbSec: p.hbSec } : {}),
      stale: false,
    };
    this.byName.set(host, info);
    this.emit('presence', { host: info, ...(previous ? { previous } : {}) });
    return true;
  }

  /** An empty retained payload clears a host (it was decommissioned). */
  remove(host: string): void {
    this.byName.delete(host);
  }

  /**
   * Marks hosts stale (or fresh again) as time passes [cp-presence-8]; emits 'presence' for each
   * host whose staleness changed.
   */
  sweep(now = Date.now()): void {
    for (const [name, info] of this.byName) {
      const stale = isStale(info, now);
      if (stale === info.stale) continue;
      const next = { ...info, stale };
      this.byName.set(name, next);
      this.emit('presence', { host: next, previous: info });
    }
  }

  get(host: string): HostInfo | undefined {
    this.sweep();
    return this.byName.get(host);
  }

  /** The optional envelope fields a host understands [cp-fold-4]: a lookup per host, no sweep. */
  features(host: string): readonly string[] | undefined {
    return this.byName.get(host)?.features;
  }

  list(): HostInfo[] {
    this.sweep();
    return [...this.byName.values()].sort((a, b) => compareHosts(a.name, b.name));
  }
}

/** Online with a heartbeat interval, and silent for more than STALE_AFTER_MISSED of them. */
export function isStale(info: Pick<HostInfo, 'online' | 'hbSec' | 'heardAt'>, now: number): boolean {
  return info.online && info.hbSec !== undefined && now - info.heardAt > STALE_AFTER_MISSED * info.hbSec * 1000;
}
