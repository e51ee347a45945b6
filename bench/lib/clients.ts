// The measuring side: the controller library, a lean wire client that speaks topics.md directly,
// and plain mqtt.js for the raw baselines. All with TCP_NODELAY, re-applied on every connect.
import mqtt, { type MqttClient } from 'mqtt';
import { nanoid } from 'nanoid';
import { connect, type ConnectOptions, type Fleet } from '../../controller/index.js';
import { decodeEvent, isTerminal, PROTOCOL_VERSION, topics, type JobEvent } from '../../protocol/index.js';
import { within } from './stats.js';

export async function rawClient(url: string, id = `bench-${nanoid(8)}`): Promise<MqttClient> {
  const c = mqtt.connect(url, { clientId: id, protocolVersion: 4, keepalive: 600, reconnectPeriod: 1000, clean: true });
  c.on('connect', () => (c.stream as { setNoDelay?: (v: boolean) => void } | undefined)?.setNoDelay?.(true));
  c.on('error', () => {});
  await within(new Promise<void>((r) => c.once('connect', () => r())), 10_000, `connect to ${url}`);
  return c;
}

/** A controller that sees `expected` hosts online (bounded wait: presence of a big fleet takes a moment). */
export async function fleetWith(url: string, expected: number, timeoutMs = 60_000, options: ConnectOptions = {}): Promise<Fleet> {
  const fleet = await connect(url, { keepaliveSec: 600, ...options });
  const deadline = Date.now() + timeoutMs;
  while (fleet.hosts().filter((h) => h.online).length < expected) {
    if (Date.now() > deadline) throw new Error(`controller sees ${fleet.hosts().filter((h) => h.online).length}/${expected} hosts online`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return fleet;
}

/**
 * The contract without the controller library: subscribed once to every job topic of one host, it
 * publishes a command and waits for its terminal event. Shows what the protocol itself costs,
 * apart from the library's per-job SUBSCRIBE.
 */
export class WireClient {
  private waiting = new Map<string, (ev: JobEvent) => void>();
  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload) => {
      const ev = decodeEvent(payload);
      if (ev && isTerminal(ev)) this.waiting.get(ev.job)?.(ev);
    });
  }

  static async open(url: string, host: string): Promise<WireClient> {
    const c = await rawClient(url);
    await c.subscribeAsync(topics.jobsOfHost(host), { qos: 1 });
    return new WireClient(c);
  }

  /** `fold`: one event back for a command that ends at once [cp-fold-1], as the controller library asks. */
  run(host: string, cmd: string, args: unknown[] = [], fold = false): Promise<JobEvent> {
    const id = nanoid();
    const done = new Promise<JobEvent>((r) => this.waiting.set(id, r));
    this.client.publish(topics.cmd(host), JSON.stringify({ v: PROTOCOL_VERSION, id, cmd, args, sentAt: Date.now(), ...(fold ? { fold } : {}) }), { qos: 1 });
    return within(done, 10_000, `${cmd} on ${host}`).finally(() => this.waiting.delete(id));
  }

  close(): Promise<void> {
    return this.client.endAsync();
  }
}

/** The raw echo baseline's sender: publish to <prefix>/req, resolve when `n` replies came back. */
export class EchoSender {
  private pending?: { left: number; done: () => void };
  private constructor(readonly client: MqttClient, readonly prefix: string) {
    client.on('message', () => {
      const p = this.pending;
      if (p && --p.left === 0) {
        this.pending = undefined;
        p.done();
      }
    });
  }

  static async open(url: string, prefix: string): Promise<EchoSender> {
    const c = await rawClient(url);
    await c.subscribeAsync(`${prefix}/rep/+`, { qos: 1 });
    return new EchoSender(c, prefix);
  }

  /** One publish, `n` echoes back. */
  round(n: number, payload: string | Buffer = '{"ping":1}', timeoutMs = 30_000): Promise<void> {
    const p = new Promise<void>((done) => (this.pending = { left: n, done }));
    this.client.publish(`${this.prefix}/req`, payload, { qos: 1 });
    return within(p, timeoutMs, `${n} echoes`);
  }

  close(): Promise<void> {
    return this.client.endAsync();
  }
}
