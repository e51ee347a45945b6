// The controller's MQTT connection: options normalised once here, then a plain mqtt.js client.
import type { KeyObject } from 'node:crypto';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { nanoid } from 'nanoid';
import type { ControllerLogger } from './logger.js';
import type { OutputEncoding } from '../protocol/index.js';
import { brokerListSchema, BrokerRotation } from '../link/broker-list.js';
import { keepNoDelay, mqttOptions } from '../link/mqtt-options.js';
import type { LinkSettingsInput } from '../link/settings.js';
import { ControllerError } from './errors.js';
import type { PinOptions } from './trust/host-keys.js';

/** Credentials, TLS (each of ca, cert, key a file path or PEM text), insecure and keepaliveSec (default 30) come from the shared link settings. */
export interface ConnectOptions extends LinkSettingsInput, PinOptions {
  /**
   * Sign every command with this ed25519 private key [cp-sig-*]: a KeyObject or the path of its
   * PKCS#8 PEM file (`conplyent key create`). Named signingKey because `key` is the TLS client key.
   */
  signingKey?: KeyObject | string;
  /** Stable id for the persistent session; default `ctl-<nanoid>`. */
  clientId?: string;
  logger?: ControllerLogger;
  /** How long connect() waits for the first CONNACK; default 10 s. */
  connectTimeoutMs?: number;
  /**
   * Keep the broker session after close() (default false): set it, with a fixed clientId, for a
   * controller that restarts and wants the events queued while it was away.
   */
  keepSession?: boolean;
  /**
   * One standing subscription to every job topic, `conplyent/+/job/+`, made once at connect (default
   * true): a command goes out without a SUBSCRIBE of its own, which on NATS costs half a second (a
   * JetStream consumer per subscription) and on every broker a round trip. The price: this
   * controller receives the job events of the whole fleet and drops those that are not its own;
   * docs/scale.md weighs it for very large fleets. false: one subscription per job, made before
   * its command is sent and dropped when it ends.
   */
  allJobs?: boolean;
  /**
   * How hosts write the output of commands sent from here (default `raw`): compact frames
   * [cp-frame-*], asked for with `out: "raw"` from every host whose presence lists it, or `json`:
   * today's JSON events, for a controller that relays payloads to JSON-only consumers. Events handed
   * to you look the same either way (a frame is an OutputEvent; `outputBytes()` reads its bytes).
   */
  out?: OutputEncoding;
  /** How long each SUBSCRIBE waits for its SUBACK; default 10 s (then a SUBSCRIBE error). */
  subscribeTimeoutMs?: number;
  /** How long waitForHosts() waits for retained statuses to stop arriving; default 150 ms. */
  presenceSettleMs?: number;
  /**
   * The hosts this connection is for, when known by name: connect() returns as soon as each of them
   * has a status instead of waiting out presenceSettleMs (MQTT never says that the retained messages
   * of a subscription are all delivered, so for a selector the window is the only sign).
   */
  awaitHosts?: readonly string[];
}

/** The MQTT options of the controller's connection; a bad URL or option is a BAD_OPTION before anything is dialled. */
export function clientOptions(url: string, o: ConnectOptions): IClientOptions {
  try {
    // resubscribe: the fleet subscribes again itself, one topic per SUBSCRIBE (subscribe.ts says why).
    return { ...mqttOptions(url, { ...o, clientId: o.clientId ?? `ctl-${nanoid(12)}`, reconnectPeriodMs: 1000 }), resubscribe: false };
  } catch (e) {
    throw new ControllerError('BAD_OPTION', (e as Error).message);
  }
}

/** A connected client and the broker list it follows (the next node after every close) [cp-conn-7]. */
export interface OpenedClient {
  client: MqttClient;
  brokers: BrokerRotation;
}

/**
 * Connects to the first URL that answers with a CONNACK, trying them in order; rejects with a
 * CONNECT error naming each failure (never retries forever at first connect). Once connected, every
 * reconnect dials the next URL of the list.
 */
export async function openClient(urls: string | readonly string[], o: ConnectOptions): Promise<OpenedClient> {
  const list = brokerList(urls);
  const problems: string[] = [];
  for (const [i, url] of list.entries()) {
    try {
      const client = await openOne(url, o);
      return { client, brokers: new BrokerRotation(list, i).follow(client) };
    } catch (e) {
      if (e instanceof ControllerError && e.code === 'BAD_OPTION') throw e;
      problems.push((e as Error).message);
    }
  }
  throw new ControllerError('CONNECT', problems.join('; '));
}

/** The URLs of a list, checked; a bad one is a BAD_OPTION before anything is dialled. */
function brokerList(urls: string | readonly string[]): string[] {
  const parsed = brokerListSchema.safeParse(urls);
  if (!parsed.success) throw new ControllerError('BAD_OPTION', `broker: ${parsed.error.issues[0]!.message}`);
  return parsed.data;
}

function openOne(url: string, o: ConnectOptions): Promise<MqttClient> {
  const opts = clientOptions(url, o);
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, opts);
    keepNoDelay(client);
    const timer = setTimeout(() => fail(new Error(`no answer within ${opts.connectTimeout} ms`)), opts.connectTimeout);
    const fail = (err: Error) => {
      clearTimeout(timer);
      client.removeListener('connect', ok);
      client.removeListener('close', closed);
      client.removeListener('error', fail);
      client.on('error', () => {});
      client.end(true);
      reject(new ControllerError('CONNECT', `cannot connect to ${url}: ${err.message}`, { cause: err }));
    };
    const ok = () => {
      clearTimeout(timer);
      client.removeListener('error', fail);
      client.removeListener('close', closed);
      // Later errors are reconnect noise; the 'close'/'reconnect' cycle handles them.
      client.on('error', (err) => o.logger?.warn({ err: err.message }, 'mqtt error'));
      resolve(client);
    };
    // mqtt.js swallows ECONNREFUSED and retries; a first attempt that closes before CONNACK is a failure.
    const closed = () => fail(new Error('connection closed before CONNACK (broker down or refused)'));
    client.once('connect', ok);
    client.once('error', fail);
    client.once('close', closed);
  });
}

/** How long close() lets acknowledgements still due arrive before it closes the socket. */
const END_GRACE_MS = 2_000;

/**
 * Ends the connection, bounded. mqtt.js's graceful end waits for every packet still awaiting its
 * acknowledgement: disconnected, for publishes queued while offline; connected, for a SUBACK a
 * broker may never send. Either would hang close() forever.
 */
export async function endClient(client: MqttClient, connected: boolean): Promise<void> {
  if (!connected) return void (await client.endAsync(true));
  let timer: NodeJS.Timeout | undefined;
  const ended = await Promise.race([client.endAsync().then(() => true), new Promise<false>((r) => (timer = setTimeout(r, END_GRACE_MS, false)))]);
  clearTimeout(timer);
  if (!ended) await client.endAsync(true);
}

/** Connects once with clean=true under `clientId`, which makes the broker drop that id's session. Best effort, bounded. */
export async function discardSession(url: string, o: ConnectOptions, clientId: string): Promise<void> {
  const client = mqtt.connect(url, { ...clientOptions(url, { ...o, clientId }), clean: true, reconnectPeriod: 0, connectTimeout: 2000 });
  client.on('error', () => {});
  await new Promise<void>((resolve) => {
    const t = setTimeout(resolve, 2000);
    client.once('connect', () => (clearTimeout(t), resolve()));
    client.once('close', () => (clearTimeout(t), resolve()));
  });
  await client.endAsync(true).catch(() => {});
}
