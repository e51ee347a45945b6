// Two mismatches between aedes 1.x and aedes-persistence-redis 11.x, mended where they meet.
//
// 1. Lost SUBACK. aedes calls persistence.addSubscriptions once per topic of a SUBSCRIBE, each time
// with the whole topic list (lib/handlers/subscribe.js, storeSubscriptions; the duplicate calls were
// reported as moscajs/aedes#458). aedes-persistence's BroadcastPersistence then waits for its own
// `$SYS/sub/add` echo under a key made of the client id and the FIRST topic only, in a Map holding
// one waiter per key: the N calls of one SUBSCRIBE share one key and each overwrites the previous
// waiter. Over Redis the echo is slow enough that all N waiters are registered before the first
// echo returns, so only the last is resolved; N-1 calls never finish and the SUBACK of a persistent
// session's SUBSCRIBE with two or more topics is never sent. (With the in-process emitter the echo
// usually returns before the next call, which is why a single broker does not show it.)
// Mend: the calls of one SUBSCRIBE pass the same array (packet.subscriptions), so the first call
// stores and broadcasts it and the others share its promise: one write and one broadcast per
// SUBSCRIBE instead of N, and every call resolves.
//
// 2. Retained messages on SUBSCRIBE. aedes 1.x pipes createRetainedStreamCombi()'s result
// (`stream.pipe(...)`), but the Redis store returns an async generator, which has no pipe: the
// broker process crashes on the first SUBSCRIBE. Mend: wrap it in a Readable.
import { Readable } from 'node:stream';

interface RedisStore {
  addSubscriptions(client: unknown, subs: object[]): Promise<void>;
  createRetainedStreamCombi(patterns: string[]): AsyncIterable<unknown> | Readable;
}

/** Returns `persistence` with both mends applied; everything else goes to it unchanged. */
export function adaptRedisPersistence<P extends object>(persistence: P): P {
  const target = persistence as unknown as RedisStore;
  // Keyed by the packet's subscriptions array: gone with the packet, never a leak.
  const inFlight = new WeakMap<object[], Promise<void>>();
  const overrides: RedisStore = {
    addSubscriptions(client, subs) {
      let p = inFlight.get(subs);
      if (!p) {
        p = target.addSubscriptions(client, subs);
        inFlight.set(subs, p);
      }
      return p;
    },
    createRetainedStreamCombi(patterns) {
      const out = target.createRetainedStreamCombi(patterns);
      return out instanceof Readable ? out : Readable.from(out);
    },
  };
  return new Proxy(persistence, {
    get(obj, prop, receiver) {
      if (typeof prop === 'string' && prop in overrides) return overrides[prop as keyof RedisStore];
      const value = Reflect.get(obj, prop, receiver);
      // Bind to the real object: persistences keep state in #private fields a Proxy cannot reach.
      return typeof value === 'function' ? value.bind(obj) : value;
    },
  });
}
