// One QoS 1 PUBLISH that can be taken back while mqtt.js still holds it. mqtt.js keeps a publish made
// while offline in its outgoing store and sends it on the next connect, and sends an unacknowledged
// one again after a reconnect [MQTT-4.4.0-1] (mqttjs/MQTT.js#397, #1478): a command the controller
// has already reported as not sent would otherwise reach the agent minutes later and run.
// removeOutgoingMessage(messageId) is mqtt.js's way to drop one (added by mqttjs/MQTT.js#658 for a
// publish that must not be resent); a publish still waiting behind the replay of the store on
// reconnect has no message id yet and sits in an internal queue.
import type { MqttClient } from 'mqtt';

/**
 * never-sent: it was never written to a connection, and now never will be. maybe-sent: it was written
 * (no PUBACK yet), so the broker may hold it; it is no longer resent, and the command's TTL bounds a
 * late copy. acknowledged: the broker had it already (for a command of several publishes: some were
 * acknowledged, the others withdrawn).
 */
export type Withdrawal = 'never-sent' | 'maybe-sent' | 'acknowledged';

/** What a job's answer adds once its command could not be sent in time and was withdrawn. */
export const WITHDRAWAL_NOTE: Record<Withdrawal, string> = {
  'never-sent': '; it was withdrawn and will not be sent',
  'maybe-sent': '; it was withdrawn from the resend queue, but a copy written before may have reached the broker and may still run until its TTL',
  acknowledged: '; it reached the broker for some hosts, which may still run it until its TTL, and was withdrawn for the others',
};

/**
 * One verdict for a command's publishes (one per host), the least reassuring first: any maybe-sent,
 * then any acknowledged (reached the broker for some hosts, withdrawn for the others), then never-sent.
 */
export function combinedWithdrawal(verdicts: readonly Withdrawal[]): Withdrawal {
  if (verdicts.includes('maybe-sent')) return 'maybe-sent';
  if (verdicts.includes('acknowledged')) return 'acknowledged';
  return 'never-sent';
}

type Callback = (err?: Error) => void;
/**
 * mqtt.js 5 internals (client.js): the queue of publishes deferred while the outgoing store is
 * replayed after a connect, and the replay's own bookkeeping of the ids it has handled.
 */
type Internals = {
  _storeProcessingQueue?: { callback?: unknown }[];
  _storeProcessing?: boolean;
  _packetIdsDuringStoreProcessing?: Record<number, boolean>;
};

/** CONNACKs seen per client: a publish stored offline was written iff a CONNACK came after it. */
const connacks = new WeakMap<MqttClient, { n: number }>();

function connackCounter(client: MqttClient): { n: number } {
  let c = connacks.get(client);
  if (!c) {
    const counter = { n: 0 };
    client.on('packetreceive', (p) => {
      if (p.cmd === 'connack') counter.n++;
    });
    connacks.set(client, (c = counter));
  }
  return c;
}

export class HeldPublish {
  /** Resolves on PUBACK; rejects when mqtt.js gives up on it or it is withdrawn. */
  readonly done: Promise<void>;
  private settled = false;
  private acked = false;
  private withdrawn = false;
  private messageId?: number;
  /** Stored while disconnected, and the CONNACK count then. */
  private storedOffline = false;
  private connacksAtStore = 0;
  private readonly counter: { n: number };
  private readonly callback: Callback;
  private readonly fail: (err: Error) => void;

  constructor(private readonly client: MqttClient, topic: string, body: Buffer) {
    this.counter = connackCounter(client);
    let resolve!: () => void;
    let reject!: (err: Error) => void;
    this.done = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.fail = (err) => {
      if (this.settled) return;
      this.settled = true;
      reject(err);
    };
    this.callback = (err?: Error) => {
      if (err) return this.fail(err);
      if (this.settled) return;
      this.settled = this.acked = true;
      resolve();
    };
    // cbStorePut runs right after the message id is allocated and the packet stored (synchronously
    // with mqtt.js's in-memory store), whether it is then written or kept for the next connect.
    client.publish(topic, body, { qos: 1, retain: false, cbStorePut: () => this.stored() }, this.callback);
  }

  private stored(): void {
    const id = this.client.messageIdProvider.getLastAllocated();
    if (id !== null && this.client.outgoing[id]?.cb === this.callback) this.messageId = id;
    this.storedOffline = !this.client.connected;
    this.connacksAtStore = this.counter.n;
    if (this.withdrawn) this.remove();
  }

  private remove(): void {
    if (this.messageId === undefined) return;
    // A replay under way sends a snapshot of the store taken at the CONNACK, so deleting from the
    // store is not enough: marking the id handled makes the replay skip it.
    const internals = this.client as unknown as Internals;
    if (internals._storeProcessing && internals._packetIdsDuringStoreProcessing) internals._packetIdsDuringStoreProcessing[this.messageId] = true;
    if (this.client.outgoing[this.messageId]) this.client.removeOutgoingMessage(this.messageId);
  }

  /** Takes the publish back from mqtt.js if it still holds it; says whether it may have been sent. */
  withdraw(): Withdrawal {
    if (this.acked) return 'acknowledged';
    const written = this.messageId !== undefined && (!this.storedOffline || this.counter.n !== this.connacksAtStore);
    const settled = this.settled;
    this.withdrawn = true;
    const queue = (this.client as unknown as Internals)._storeProcessingQueue;
    const i = queue?.findIndex((q) => q.callback === this.callback) ?? -1;
    if (i >= 0) queue!.splice(i, 1);
    else this.remove();
    this.fail(new Error('withdrawn'));
    // Neither in the queue nor stored under an id, yet mqtt.js has not given up on it: it is somewhere
    // this file cannot see (an mqtt.js that renamed its internals), so it may still go out.
    if (i < 0 && this.messageId === undefined && !settled) return 'maybe-sent';
    return written ? 'maybe-sent' : 'never-sent';
  }
}
