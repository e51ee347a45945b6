// MQTT client helpers for the broker tests: real mqtt.js clients, Nagle off, every wait bounded.
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';

export const WAIT_MS = 5_000;

/** Connects (no automatic reconnect) or rejects with the broker's refusal. */
export async function connect(url: string, opts: IClientOptions = {}): Promise<MqttClient> {
  const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: WAIT_MS, ...opts });
  // Record from the first packet on: a persistent session's queued messages can arrive right after
  // CONNACK, before the caller has attached a listener.
  const got: Message[] = [];
  recorded.set(client, got);
  client.on('message', (topic, payload) => got.push({ topic, payload: payload.toString() }));
  client.on('connect', () => (client.stream as any)?.setNoDelay?.(true));
  try {
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
      client.once('close', () => reject(new Error('connection closed before CONNACK')));
    });
  } catch (e) {
    client.end(true);
    throw e;
  }
  client.on('error', () => {});
  return client;
}

/** Resolves with the reason when the connection is refused; rejects if it is accepted. */
export async function refusal(url: string, opts: IClientOptions = {}): Promise<Error> {
  try {
    const c = await connect(url, opts);
    await c.endAsync();
  } catch (e) {
    return e as Error;
  }
  throw new Error('connection was accepted but should have been refused');
}

interface Message {
  topic: string;
  payload: string;
}
const recorded = new WeakMap<MqttClient, Message[]>();

/** The messages a client from `connect` received since it connected, and bounded waits for more. */
export function inbox(client: MqttClient) {
  const got = recorded.get(client) ?? [];
  const waiters: (() => void)[] = [];
  client.on('message', () => {
    for (const w of waiters.splice(0)) w();
  });
  const until = async (pred: () => boolean, what: string) => {
    const deadline = Date.now() + WAIT_MS;
    while (!pred()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(got.map((m) => m.topic))}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 50);
        waiters.push(() => (clearTimeout(t), r()));
      });
    }
  };
  return {
    got,
    topics: () => got.map((m) => m.topic),
    until,
    /** Waits for a message on `topic` with `payload`. */
    waitFor: (topic: string, payload?: string) =>
      until(() => got.some((m) => m.topic === topic && (payload === undefined || m.payload === payload)), `${topic} ${payload ?? ''}`),
  };
}

export const closed = (client: MqttClient) =>
  new Promise<void>((resolve, reject) => {
    if (!client.connected) return resolve();
    const t = setTimeout(() => reject(new Error('client was not disconnected')), WAIT_MS);
    client.once('close', () => (clearTimeout(t), resolve()));
  });

/** Subscribes and returns the granted QoS per filter (128 = refused) instead of rejecting on a refusal. */
export async function subscribeGranted(client: MqttClient, filters: string[]): Promise<number[]> {
  try {
    const granted = await client.subscribeAsync(filters, { qos: 1 });
    return filters.map((f) => granted.find((g) => g.topic === f)?.qos ?? -1);
  } catch (e) {
    const packet = (e as { packet?: { granted?: number[] } }).packet;
    if (packet?.granted) return packet.granted;
    throw e;
  }
}

/** The next message on exactly `topic` with its retain flag, or undefined after `ms` (a recorded absence). */
export function nextOn(client: MqttClient, topic: string, ms = WAIT_MS): Promise<{ payload: string; retain: boolean } | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      client.off('message', on);
      resolve(undefined);
    }, ms);
    const on = (t: string, payload: Buffer, packet: { retain: boolean }) => {
      if (t !== topic) return;
      clearTimeout(timer);
      client.off('message', on);
      resolve({ payload: payload.toString(), retain: packet.retain });
    };
    client.on('message', on);
  });
}

/** Remembers the clients a suite opens so afterAll can end them all: `track(connect(...))`, `endAll()`. */
export function clientPool() {
  const open: MqttClient[] = [];
  return {
    track: async (p: Promise<MqttClient>) => {
      const c = await p;
      open.push(c);
      return c;
    },
    add: (c: MqttClient) => open.push(c),
    endAll: () => {
      for (const c of open.splice(0)) c.end(true);
    },
  };
}
