// Target resolution: a selector string (or an explicit host list) against presence gives the set of
// hosts we expect an answer from, and the route: per-host topics for a few named hosts, else ONE
// publish on the fleet topic [cp-fleet-1].
import { isHostName, matchesSelector, parseSelector, singleHost, type Selector } from '../protocol/index.js';
import { ControllerError } from './errors.js';
import { expandHostRanges } from './host-ranges.js';
import type { HostInfo } from './presence.js';
import { compareHosts } from './host-order.js';

/** More named hosts than this go out as one fleet-topic publish instead of one publish each. */
export const MAX_DIRECT_HOSTS = 3;
/** The envelope's `target` field bound (protocol/command.ts). */
const MAX_TARGET_CHARS = 1024;

/**
 * A selector (`web-*`, `role=web`, `web[1-20]`, `all`), a list of host names, or a target minus the
 * hosts another one selects (pdsh's `-x`): exclusion is worked out here, and what goes on the wire
 * is the list of hosts that remain, since an agent's selector has no "but not".
 * @example
 * fleet.run({ include: 'web[01-10]', exclude: 'web07' }, 'exec', ['uptime']);
 */
export type Target = string | readonly string[] | { include: string | readonly string[]; exclude: string | readonly string[] };

export interface Resolution {
  /** Every host we wait for, sorted. */
  expected: string[];
  /** Expected hosts that presence says are offline, or that presence has never seen (named explicitly). */
  offline: string[];
  /** Named hosts presence has never seen. */
  unknown: string[];
  /** Expected hosts presence says are online but whose heartbeats stopped (also in `offline`) [cp-presence-8]. */
  stale: string[];
  /** Nothing known matched. */
  noMatch: boolean;
  route: Route;
}

export type Route =
  | { kind: 'direct'; hosts: string[] }
  | { kind: 'fleet'; target: string };

function toSelector(target: string | readonly string[]): Selector {
  try {
    // Ranges become names before the shared grammar sees them; the agent is sent names [cp-fleet-2].
    if (typeof target === 'string') return parseSelector(expandHostRanges(target));
    for (const h of target) if (!isHostName(h)) throw new TypeError(`"${h}" is not a valid host name`);
    return parseSelector(target.join(','));
  } catch (e) {
    throw new ControllerError('BAD_OPTION', `bad target: ${(e as Error).message}`);
  }
}

/** A selector that names its hosts outright: no `all`, glob or label term. */
function isPlainList(sel: Selector): boolean {
  return !sel.all && sel.globs.length === 0 && Object.keys(sel.labels).length === 0;
}

/**
 * The hosts a target names outright (`web-1,db-2`), as typed; undefined for `all`, a label, a glob,
 * a range (the agent's grammar reads `web[1-3]` as a glob) or a target that does not parse.
 */
export function namedHosts(target: string | undefined): string[] | undefined {
  if (target === undefined) return undefined;
  try {
    const sel = parseSelector(target);
    return isPlainList(sel) ? [...sel.names] : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Resolves a target against the hosts we know. Explicitly named hosts that presence never saw are
 * still expected (and reported offline) unless nothing at all matched, which is `noMatch`.
 */
export function resolveTarget(target: Target, hosts: readonly HostInfo[]): Resolution {
  if (typeof target === 'object' && 'include' in target) {
    const all = resolveTarget(target.include, hosts);
    const drop = new Set(resolveTarget(target.exclude, hosts).expected);
    const keep = all.expected.filter((h) => !drop.has(h));
    if (keep.length === 0) return { expected: [], offline: [], unknown: [], stale: [], noMatch: true, route: { kind: 'direct', hosts: [] } };
    return resolveTarget(keep, hosts);
  }
  const sel = toSelector(target);
  const matched = hosts.filter((h) => matchesSelector(sel, h.name, h.labels));
  const byName = new Map(hosts.map((h) => [h.name, h]));
  const hasLabels = Object.keys(sel.labels).length > 0;
  // A named host we never saw has no labels to check; with label terms it cannot be expected.
  const unknown = hasLabels ? [] : sel.names.filter((n) => !byName.has(n));
  const noMatch = matched.length === 0;
  const expected = noMatch ? [] : [...new Set([...matched.map((h) => h.name), ...unknown])].sort(compareHosts);
  const info = (n: string) => byName.get(n);
  // A stale host is treated as offline: the command is still sent (its session may queue it), and
  // it is settled at once instead of waited for [cp-presence-8].
  const stale = expected.filter((n) => info(n)?.online && info(n)?.stale);
  const offline = noMatch ? [] : expected.filter((n) => !info(n)?.online || info(n)?.stale);
  return { expected, offline, unknown: noMatch ? [] : unknown, stale, noMatch, route: routeFor(sel, expected) };
}

/** A handful of named hosts: one publish each, no `target`. Anything else: one fleet publish. */
export function routeFor(sel: Selector, expected: readonly string[]): Route {
  const one = singleHost(sel);
  if (one) return { kind: 'direct', hosts: [one] };
  const plainList = isPlainList(sel);
  if (plainList && sel.names.length <= MAX_DIRECT_HOSTS) return { kind: 'direct', hosts: [...sel.names] };
  if (plainList && sel.source.length > MAX_TARGET_CHARS) return { kind: 'direct', hosts: [...expected] };
  // Canonical form (no spaces) so it survives as one word in a text command too.
  return { kind: 'fleet', target: sel.source.split(',').map((t) => t.trim()).filter(Boolean).join(',') };
}
