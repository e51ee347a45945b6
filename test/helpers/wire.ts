// A plain mqtt.js client that knows only topics.md: how tests (and any user) drive agents.
import mqtt, { type MqttClient } from 'mqtt';
import { nanoid } from 'nanoid';

export interface WireEvent {
  topic: string;
  /** The payload parsed as JSON, or its UTF-8 text when it is not JSON (a frame, a text command). */
  json: any;
  payload: Buffer;
}

export interface Wire {
  client: MqttClient;
  /** Every message received so far, in arrival order. */
  messages: WireEvent[];
  send(topic: string, payload: string | Buffer | object): void;
  /** Sends a command to one host and resolves with its events up to and including the terminal one. */
  run(host: string, cmd: object | string, timeoutMs?: number): Promise<any[]>;
  /** Resolves with the first message matching pred (including ones already received). */
  waitFor(pred: (m: WireEvent) => boolean, timeoutMs?: number, what?: string): Promise<WireEvent>;
  jobEvents(host: string, job: string): any[];
  close(): Promise<void>;
}

const TERMINAL = new Set(['result', 'error', 'lost']);

export async function connectWire(url: string, opts: mqtt.IClientOptions = {}): Promise<Wire> {
  const client = mqtt.connect(url, { protocolVersion: 4, reconnectPeriod: 200, clientId: `wire-${nanoid(8)}`, ...opts });
  client.on('connect', () => (client.stream as any)?.setNoDelay?.(true));
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`wire client could not connect to ${url}`)), 10_000);
    client.once('connect', () => (clearTimeout(t), resolve()));
  });
  const messages: WireEvent[] = [];
  const listeners = new Set<(m: WireEvent) => void>();
  client.on('message', (topic, payload) => {
    let json: any;
    try {
      json = JSON.parse(payload.toString('utf8'));
    } catch {
      json = payload.toString('utf8');
    }
    const m = { topic, json, payload };
    messages.push(m);
    for (const l of listeners) l(m);
  });
  await client.subscribeAsync('conplyent/#', { qos: 1 });

  const waitFor: Wire['waitFor'] = (pred, timeoutMs = 10_000, what = 'a matching message') =>
    new Promise((resolve, reject) => {
      const hit = messages.find(pred);
      if (hit) return resolve(hit);
      const t = setTimeout(() => {
        listeners.delete(l);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const l = (m: WireEvent) => {
        if (pred(m)) {
          clearTimeout(t);
          listeners.delete(l);
          resolve(m);
        }
      };
      listeners.add(l);
    });

  const jobEvents = (host: string, job: string) => messages.filter((m) => m.topic === `conplyent/${host}/job/${job}`).map((m) => m.json);

  return {
    client,
    messages,
    send: (topic, payload) => {
      const body = typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload);
      client.publish(topic, body, { qos: 1 });
    },
    async run(host, cmd, timeoutMs = 15_000) {
      const command = typeof cmd === 'string' ? cmd : { id: nanoid(), ...cmd };
      const id = typeof command === 'string' ? /(?:^|\s)id=(\S+)/.exec(command)?.[1] : (command as any).id;
      if (!id) throw new Error('wire.run needs an id (id=... in text commands)');
      client.publish(`conplyent/${host}/cmd`, typeof command === 'string' ? command : JSON.stringify(command), { qos: 1 });
      await waitFor((m) => m.topic === `conplyent/${host}/job/${id}` && TERMINAL.has(m.json?.type), timeoutMs, `the terminal event of job ${id} on ${host}`);
      return jobEvents(host, id);
    },
    waitFor,
    jobEvents,
    close: () => client.endAsync(),
  };
}

export function result(events: any[]): any {
  const t = events.filter((e) => TERMINAL.has(e.type));
  if (t.length !== 1) throw new Error(`expected exactly one terminal event, got ${t.length}: ${JSON.stringify(events).slice(0, 500)}`);
  return t[0];
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
