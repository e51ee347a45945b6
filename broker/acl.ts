// Who may publish and subscribe where: the roles of the users file as pure functions of a topic,
// so the embedded broker and the tests share one definition (deploy/acl mirrors it for Mosquitto).
import { parseTopic, topics, ROOT } from '../protocol/index.js';
import type { Role } from './users-file.js';

/** An authenticated connection: its user name and role. */
export interface Principal {
  name: string;
  role: Role;
}

/** `$` topics are the broker's own (`$SYS`); NUL is forbidden in topics [MQTT-1.5.3-2]. */
function unsafe(topic: string): boolean {
  return topic.length === 0 || topic.startsWith('$') || topic.includes('\u0000');
}

/**
 * agent: only under its own name — job events, presence, errors [cp-topic-3..5].
 * controller: commands to one host or the fleet [cp-topic-1, cp-topic-2].
 * observer: nothing.
 */
export function canPublish(p: Principal, topic: string): boolean {
  if (unsafe(topic)) return false;
  const t = parseTopic(topic);
  if (!t) return false;
  switch (p.role) {
    case 'agent':
      return (t.kind === 'job' || t.kind === 'status' || t.kind === 'errors') && t.host === p.name;
    case 'controller':
      return t.kind === 'cmd' || t.kind === 'fleetCmd';
    default:
      return false;
  }
}

/**
 * agent: its own cmd topic, the fleet topic, and its own status (it watches its presence to
 * repair a late Will) — exact filters only, no wildcards.
 * controller and observer: any filter under `conplyent/`.
 */
export function canSubscribe(p: Principal, filter: string): boolean {
  if (unsafe(filter)) return false;
  if (p.role === 'agent') {
    return filter === topics.cmd(p.name) || filter === topics.fleetCmd() || filter === topics.status(p.name);
  }
  // `#` alone or `+/...` would reach other applications' topics on a shared broker.
  return filter === topics.everything() || filter.startsWith(`${ROOT}/`);
}

/** A Will is a publish made later by the broker: the same rule, and an agent's Will must be its status. */
export function canSetWill(p: Principal, topic: string): boolean {
  if (p.role === 'agent') return topic === topics.status(p.name);
  return canPublish(p, topic);
}

/**
 * Whether a publish the role may make may also be retained. Agents: only their status. Controllers
 * keep the flag on commands: agents refuse a retained command with a RETAINED notice [cp-mqtt-2].
 */
export function retainable(p: Principal, topic: string): boolean {
  if (p.role !== 'agent') return true;
  return parseTopic(topic)?.kind === 'status';
}
