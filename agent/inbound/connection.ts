// The agent's one MQTT connection: dials out only (works behind NAT), fixed client id, persistent
// session, TCP_NODELAY on every socket, our own reconnect schedule (exponential backoff with full
// jitter, so a thousand agents do not stampede a restarted broker [cp-conn-2]).
import type { Writable } from 'node:stream';
import mqtt, { type MqttClient } from 'mqtt';
import { BrokerRotation } from '../../link/broker-list.js';
import { keepNoDelay, mqttOptions } from '../../link/mqtt-options.js';
import type { ResolvedAgentOptions } from '../options.js';
import { SubscriptionRefused } from './refusals.js';

/** How long stop() waits for acknowledgements and for the socket to close. */
const END_GRACE_MS = 2_000;

export interface ConnectionHooks {
  /** Before every connection attempt: the Will of that attempt is taken from here. */
  will(): { topic: string; payload: Buffer };
  onConnect(sessionPresent: boolean): void;
  onClose(): void;
  onMessage(topic: string, payload: Buffer, retained: boolean): void;
  /** The broker refused the CONNECT itself (identifier, user name or password, authorisation). */
  onRefused(err: Error): void;
}

/** Full jitter: a uniformly random delay in [0, min(max, base * 2^attempt)]. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random = Math.random): number {
  return Math.floor(random() * Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30)));
}

export class AgentConnection {
  readonly client: MqttClient;
  /** The broker list: each close moves the next attempt to the next node [cp-conn-7]. */
  readonly brokers: BrokerRotation;
  private attempt = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;
  private corked = false;

  constructor(
    private readonly o: ResolvedAgentOptions,
    private readonly hooks: ConnectionHooks,
  ) {
    const w = hooks.will();
    const opts = {
      ...mqttOptions(o.broker[0]!, {
        ...o,
        clientId: o.name, // [cp-conn-1] with auth, the broker requires client id == user name == host
        reconnectPeriodMs: 0, // we schedule reconnects ourselves, with jitter
      }),
      resubscribe: false, // we resubscribe ourselves when the broker has no session
      will: { topic: w.topic, payload: w.payload, qos: 1 as const, retain: true },
    };
    this.client = mqtt.connect(o.broker[0]!, opts);
    keepNoDelay(this.client); // [cp-conn-3]
    this.brokers = new BrokerRotation(o.broker).follow(this.client);
    this.client.on('connect', (connack) => {
      this.attempt = 0;
      hooks.onConnect(connack.sessionPresent);
    });
    this.client.on('message', (topic, payload, packet) => hooks.onMessage(topic, payload, packet.retain));
    this.client.on('close', () => {
      hooks.onClose();
      this.scheduleReconnect();
    });
    this.client.on('error', (err) => {
      // Closing the socket on stop makes mqtt.js report writes it still had queued: expected, not a warning.
      if (this.stopping) o.logger.debug({ err: err.message }, 'mqtt error while stopping');
      else o.logger.warn({ err: err.message }, 'mqtt connection error');
      // CONNACK return codes 2 (identifier rejected), 4 (bad user name or password), 5 (not authorised).
      const code = (err as { code?: unknown }).code;
      if (code === 2 || code === 4 || code === 5) hooks.onRefused(err);
    });
    this.client.on('offline', () => o.logger.info('broker unreachable; will retry'));
  }

  get connected(): boolean {
    return this.client.connected;
  }

  private scheduleReconnect(): void {
    if (this.stopping || this.timer || this.client.disconnecting) return;
    const delay = backoffDelay(this.attempt++, this.o.reconnectMinMs, this.o.reconnectMaxMs);
    this.o.logger.info({ delay, attempt: this.attempt, broker: this.brokers.current }, 'reconnecting');
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.stopping) return;
      const w = this.hooks.will();
      // mqtt.js builds each CONNECT from options.will: the new attempt carries the new incarnation.
      this.client.options.will = { topic: w.topic, payload: w.payload, qos: 1, retain: true };
      // reconnect() without stores replaces them with empty ones: the QoS 1 publishes awaiting PUBACK
      // would be dropped with their callbacks never called, and the outbox would wait for them forever.
      this.client.reconnect({ incomingStore: this.client.incomingStore, outgoingStore: this.client.outgoingStore });
    }, delay);
  }

  publish(topic: string, payload: Buffer | string, retain = false): Promise<void> {
    this.corkUntilIdle();
    return new Promise((resolve, reject) => {
      this.client.publish(topic, payload, { qos: 1, retain }, (err) => (err ? reject(err) : resolve()));
    });
  }

  /**
   * Publishes of one event-loop turn leave in one socket write: a command that ends at once sends
   * its `accepted` and `result` together instead of two writes (mqtt-packet only corks
   * within one tick; a write is a dear syscall in a VM, see `writev` in BENCHMARKS.md profiles).
   */
  private corkUntilIdle(): void {
    const stream = this.client.stream as Writable | undefined;
    if (this.corked || typeof stream?.cork !== 'function') return;
    this.corked = true;
    stream.cork();
    setImmediate(() => {
      this.corked = false;
      stream.uncork();
    });
  }

  /**
   * One SUBSCRIBE packet per filter (clustered aedes never acknowledges a persistent-session
   * SUBSCRIBE carrying several topics), each with a deadline: a node that does not acknowledge
   * within the connect timeout gets its link dropped, and the reconnect goes to the next broker.
   */
  async subscribe(filters: string[]): Promise<void> {
    await Promise.all(filters.map((f) => this.subscribeOne(f)));
  }

  private subscribeOne(filter: string): Promise<void> {
    const timeoutMs = this.client.options.connectTimeout ?? 10_000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`the broker did not acknowledge the subscription to ${filter} within ${timeoutMs} ms`));
        this.client.stream?.destroy();
      }, timeoutMs);
      this.client.subscribe(filter, { qos: 1 }, (err, granted) => {
        clearTimeout(timer);
        if (err) return reject(err);
        const denied = (granted ?? []).filter((g) => g.qos === 128);
        if (denied.length) return reject(new SubscriptionRefused(denied.map((d) => d.topic)));
        resolve();
      });
    });
  }

  /**
   * Sends DISCONNECT (no Will) when the link is live and every publish is acknowledged, within a few
   * seconds; otherwise closes the socket (then the Will is the truth). mqtt.js's own graceful end
   * waits for unacknowledged publishes without a bound, and never calls back on a closed socket.
   */
  async end(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    const c = this.client;
    const pending = () => Object.keys(c.outgoing ?? {}).length > 0;
    if (c.connected && pending()) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, END_GRACE_MS);
        c.once('outgoingEmpty', () => (clearTimeout(t), resolve()));
      });
    }
    const force = !c.connected || pending();
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, END_GRACE_MS);
      c.end(force, {}, () => (clearTimeout(t), resolve()));
    });
  }
}
