// aedes queues QoS 1/2 messages for offline persistent sessions without any limit; a controller or
// observer that subscribed to conplyent/# and never came back would grow the broker's memory (or
// disk) forever. This wrapper caps each client's queue,
// like Mosquitto's max_queued_messages, and drops the newest message when it is full.
import type { Logger } from 'pino';

interface OutgoingPersistence {
  outgoingEnqueue(sub: { clientId: string }, packet: unknown): Promise<void>;
  outgoingEnqueueCombi(subs: { clientId: string }[], packet: unknown): Promise<void>;
  outgoingClearMessageId(client: { id: string }, packet: unknown): Promise<unknown>;
}

/**
 * Returns `persistence` with a per-client bound on queued messages.
 * The count is what this process enqueued minus what clients acknowledged; after a restart it starts
 * at zero, so the bound can only be late, never early. Only the offline path (outgoingEnqueueCombi)
 * drops: the online path is followed at once by a delivery that expects the stored packet.
 */
export function boundQueues<P extends object>(
  persistence: P,
  maxQueued: number,
  log?: Logger,
  /** Called for every message dropped for a client, so its sender can be told (broker/drop-notice.ts). */
  onDrop?: (clientId: string, packet: unknown) => void,
): P {
  const target = persistence as unknown as OutgoingPersistence;
  const counts = new Map<string, number>();
  const warned = new Set<string>();
  const add = (id: string) => counts.set(id, (counts.get(id) ?? 0) + 1);
  const overrides: Partial<OutgoingPersistence> = {
    async outgoingEnqueue(sub, packet) {
      await target.outgoingEnqueue(sub, packet);
      add(sub.clientId);
    },
    async outgoingEnqueueCombi(subs, packet) {
      const room = subs.filter((s) => {
        if ((counts.get(s.clientId) ?? 0) < maxQueued) return true;
        if (!warned.has(s.clientId)) {
          warned.add(s.clientId);
          log?.warn({ client: s.clientId, maxQueued }, 'offline queue full: dropping new messages for this client');
        }
        onDrop?.(s.clientId, packet);
        return false;
      });
      if (room.length > 0) await target.outgoingEnqueueCombi(room, packet);
      for (const s of room) add(s.clientId);
    },
    async outgoingClearMessageId(client, packet) {
      const removed = await target.outgoingClearMessageId(client, packet);
      const n = counts.get(client.id) ?? 0;
      if (removed && n > 0) {
        if (n === 1) counts.delete(client.id);
        else counts.set(client.id, n - 1);
        warned.delete(client.id);
      }
      return removed;
    },
  };
  return new Proxy(persistence, {
    get(obj, prop, receiver) {
      if (typeof prop === 'string' && prop in overrides) return overrides[prop as keyof OutgoingPersistence];
      const value = Reflect.get(obj, prop, receiver);
      // Bind to the real object: persistences keep state in #private fields a Proxy cannot reach.
      return typeof value === 'function' ? value.bind(obj) : value;
    },
  });
}
