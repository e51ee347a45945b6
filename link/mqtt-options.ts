// The MQTT client options of every conplyent connection, agent and controller alike: MQTT 3.1.1,
// persistent session, credentials, TLS, keepalive, and TCP_NODELAY on every socket.
import type { IClientOptions, MqttClient } from 'mqtt';
import { brokerUrlProblem } from './broker-url.js';
import { linkSettingsSchema, parseOptions, type LinkSettingsInput } from './settings.js';
import { tlsMaterial } from './tls.js';
import './packet-cache.js';

/** How long a connection attempt waits for its CONNACK unless told otherwise. */
export const CONNECT_TIMEOUT_MS = 10_000;

export interface LinkOptions extends LinkSettingsInput {
  clientId: string;
  /** mqtt.js's own reconnect delay; 0 when the caller schedules reconnects itself. */
  reconnectPeriodMs: number;
  connectTimeoutMs?: number;
  /** Start without a stored session (default false: the broker keeps subscriptions and queued messages). */
  clean?: boolean;
}

/**
 * Validates the URL and the shared settings and loads the TLS material. Throws a TypeError naming
 * the bad option; nothing is dialled.
 */
export function mqttOptions(url: string, o: LinkOptions): IClientOptions {
  const problem = brokerUrlProblem(url);
  if (problem) throw new TypeError(`broker URL "${url}" is invalid: ${problem}`);
  const s = parseOptions(linkSettingsSchema, o, 'connection option');
  return {
    // MQTT 3.1.1 works on every broker we support (Mosquitto, aedes, EMQX, NATS).
    protocolVersion: 4,
    // A persistent session keeps subscriptions and queues QoS 1 messages while a client is away.
    clean: o.clean ?? false,
    clientId: o.clientId,
    keepalive: s.keepaliveSec,
    reconnectPeriod: o.reconnectPeriodMs,
    connectTimeout: o.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
    username: s.username,
    password: s.password,
    ca: tlsMaterial('ca', s.ca),
    cert: tlsMaterial('cert', s.cert),
    key: tlsMaterial('key', s.key),
    rejectUnauthorized: !s.insecure,
  };
}

/**
 * Node sockets batch small writes (Nagle's algorithm): 40-90 ms per MQTT round trip on loopback.
 * Every socket mqtt.js opens, each reconnect's included, gets TCP_NODELAY; Mosquitto's own
 * `set_tcp_nodelay` documents the same trap (mosquitto.conf(5)). Register before other 'connect'
 * listeners so they already run on a socket without the delay.
 */
export function keepNoDelay(client: MqttClient): void {
  client.on('connect', () => (client.stream as { setNoDelay?: (v: boolean) => void } | undefined)?.setNoDelay?.(true));
}
