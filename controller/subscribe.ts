// The controller's SUBSCRIBEs: one topic per packet, each with a deadline for its SUBACK. Clustered
// aedes (mqemitter-redis with aedes-persistence-redis) never acknowledges a persistent-session
// SUBSCRIBE carrying two or more topics, and a broker that never answers must not hang a verb
// (`conplyent hosts` waited ten minutes on one): every wait after connecting is bounded.
import type { MqttClient } from 'mqtt';
import { ControllerError } from './errors.js';

/** How long a SUBSCRIBE waits for its SUBACK unless told otherwise. */
export const SUBSCRIBE_TIMEOUT_MS = 10_000;

/**
 * Subscribes to `filter` at QoS 1; rejects with a SUBSCRIBE error when the broker refuses it
 * (granted 0x80) or has not acknowledged it within `timeoutMs`.
 */
export function subscribeWithin(client: MqttClient, filter: string, timeoutMs = SUBSCRIBE_TIMEOUT_MS): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new ControllerError('SUBSCRIBE', `the broker did not acknowledge the subscription to ${filter} within ${timeoutMs} ms`)), timeoutMs);
    timer.unref();
    client.subscribe(filter, { qos: 1 }, (err, granted) => {
      clearTimeout(timer);
      if (err) return reject(new ControllerError('SUBSCRIBE', `the subscription to ${filter} failed: ${err.message}`, { cause: err }));
      if (granted?.some((g) => g.qos === 128)) return reject(new ControllerError('SUBSCRIBE', `the broker refused the subscription to ${filter} (not authorised?)`));
      resolve();
    });
  });
}

/** Several filters, one SUBSCRIBE packet each, sent together; resolves when all are acknowledged. */
export async function subscribeEach(client: MqttClient, filters: readonly string[], timeoutMs = SUBSCRIBE_TIMEOUT_MS): Promise<void> {
  await Promise.all(filters.map((f) => subscribeWithin(client, f, timeoutMs)));
}

/** Best effort and bounded: resolves on the UNSUBACK, on an error, or after `timeoutMs`. */
export function unsubscribeWithin(client: MqttClient, filter: string, timeoutMs = SUBSCRIBE_TIMEOUT_MS): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    timer.unref();
    client.unsubscribe(filter, () => (clearTimeout(timer), resolve()));
  });
}
