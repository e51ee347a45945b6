// Which deliveries aedes may drop as duplicates. aedes forwards a message to a client only when its
// brokerCounter is above the last one it forwarded from the same broker (lib/client.js, dedupe),
// which is meant for a client whose overlapping subscriptions (a/# and a/b) match one message
// twice. But its publish pipeline does not keep counter order: a retained message waits for
// persistence.storeRetained (a Redis round trip on a cluster, a LevelDB write here) while a later
// message without retain goes straight through, and the earlier, lower-numbered one is then dropped
// for every client that already received the later one (moscajs/aedes#994, #955). Seen here: an
// agent's retained "online" lost behind its own EXPIRED answer, so a controller on the other broker
// never saw the host come back.
// So the counter check is switched off per client and duplicates are told by their exact
// (brokerId, brokerCounter) over a bounded window of recent deliveries instead.
import type { AedesPublishPacket, Client } from 'aedes';

/**
 * Recent deliveries remembered per client (≈ 1.5 KiB each at most, for every connection: a heartbeat
 * a minute fills it): the copies overlapping subscriptions make are delivered back to back.
 */
export const DEDUPE_WINDOW = 16;

const NEVER_SEEN: ProxyHandler<Record<string, number>> = { get: () => 0, set: () => true };
const recent = new WeakMap<Client, Set<string>>();

/** At CONNECT, before any delivery: aedes's counter check then always passes. */
export function disableCounterDedupe(client: Client): void {
  (client as unknown as { duplicates: Record<string, number> }).duplicates = new Proxy(Object.create(null) as Record<string, number>, NEVER_SEEN);
}

/** aedes's authorizeForward hook: the packet, or null for a copy this client already got. */
export function forwardOnce(client: Client, packet: AedesPublishPacket): AedesPublishPacket | null {
  const p = packet as AedesPublishPacket & { brokerId?: string; brokerCounter?: number };
  if (!p.brokerId || !p.brokerCounter) return packet;
  let seen = recent.get(client);
  if (!seen) recent.set(client, (seen = new Set()));
  const key = `${p.brokerId}:${p.brokerCounter}`;
  if (seen.has(key)) return null;
  seen.add(key);
  // A Set iterates in insertion order: the first key is the oldest.
  if (seen.size > DEDUPE_WINDOW) seen.delete(seen.values().next().value!);
  return packet;
}
