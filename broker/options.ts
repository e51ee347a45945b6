// BrokerOptions: documented once here, normalised and validated once at the edge (startBroker).
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import { parseClusterUrl } from './cluster.js';

/** Files of the mqtts listener (PEM). */
export interface TlsOptions {
  /** TCP port of the mqtts listener (8883 by convention; 0 = ephemeral). */
  port: number;
  /** Certificate chain file (PEM). */
  cert: string;
  /** Private key file (PEM). */
  key: string;
  /** CA bundle file (PEM): when set, clients must present a certificate signed by it (mutual TLS). */
  ca?: string;
}

/** The per-IP guard against connection floods: at most `max` new connections per `windowMs`. */
export interface ConnectRateOptions {
  max: number;
  windowMs: number;
  /**
   * Loopback is exempt by default: a local process can do worse anyway, and a one-box setup or a
   * test restarting a broker under hundreds of local agents must not trip it. Default true.
   */
  exemptLoopback?: boolean;
}

/**
 * After `freeFailures` failed logins within `windowMs`, every further attempt by the same user name or
 * from the same address waits `baseDelayMs`, doubling per failure up to `maxDelayMs`, before its
 * password is even checked. Loopback is not exempt: a local attacker guesses just as well.
 */
export interface LoginThrottleOptions {
  freeFailures?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  windowMs?: number;
}

/**
 * Options of {@link startBroker}.
 * @example
 * const broker = await startBroker({ host: '0.0.0.0', port: 1883, usersFile: '/etc/conplyent/users.json', dataDir: '/var/lib/conplyent' });
 */
export interface BrokerOptions {
  /** Address to listen on. Default `127.0.0.1`. A non-loopback address needs `usersFile` or `allowUnauthenticated`. */
  host?: string;
  /** MQTT TCP port. Default 1883; 0 picks a free port (read it from `RunningBroker.port`). */
  port?: number;
  /** MQTT-over-WebSocket port (browsers, Node-RED); any request path is accepted (`ws://host:port/mqtt`). */
  wsPort?: number;
  /** mqtts listener. */
  tls?: TlsOptions;
  /** Users file (see broker/users-file.ts). When set, every connection must authenticate and the role ACL applies. */
  usersFile?: string;
  /** Explicitly allow anyone to connect without a password on a non-loopback host (`--allow-unauthenticated`). */
  allowUnauthenticated?: boolean;
  /** Largest MQTT packet accepted, in bytes. A client that sends a larger one is disconnected; others are unaffected. Default 1 MiB. */
  maxPacketBytes?: number;
  /** Most simultaneous connections (all listeners together); further ones are closed at once. Default 10000. */
  maxConnections?: number;
  /** Per-IP connect-rate guard, or false to disable. Default 100 per 1000 ms, loopback exempt. */
  connectRate?: ConnectRateOptions | false;
  /** Most QoS 1/2 messages queued for one offline persistent session; newer ones are dropped (logged). Default 10000, like deploy/mosquitto.conf. */
  maxQueuedMessages?: number;
  /**
   * Most bytes the broker holds unsent for one client (its socket's write buffer). A client that stops
   * reading and lets more pile up is disconnected; it never slows the publisher or anyone else
   * (broker/slow-consumer.ts). Default 32 MiB: a reader on a slow link may fall this far behind.
   */
  maxUnsentBytes?: number;
  /** Milliseconds a new connection may take to complete its CONNECT; a socket that is silent longer is closed. Default 5000. */
  connectTimeoutMs?: number;
  /** Failed logins: each user name and each address is slowed down after a few failures (broker/login-throttle.ts). */
  loginThrottle?: LoginThrottleOptions;
  /** Directory for persistent state (sessions, queued QoS 1 messages, retained presence). Default: in memory only. */
  dataDir?: string;
  /**
   * `redis://[user:password@]host:port[/db]` (or `rediss://`): run as one of several brokers sharing
   * sessions, queued messages, retained presence and the message bus through Redis (broker/cluster.ts).
   * Replaces `dataDir` (Redis holds the state). Default: a stand-alone broker.
   */
  cluster?: string;
  /** With `cluster`: how often this broker says it is alive; a broker silent for 3 beats has its clients' Wills published by another. Default 5000 ms. */
  clusterHeartbeatMs?: number;
  /** pino logger; silent when absent (the library never prints). */
  logger?: Logger;
}

type Defaulted = 'host' | 'port' | 'maxPacketBytes' | 'maxConnections' | 'maxQueuedMessages' | 'maxUnsentBytes' | 'connectTimeoutMs';
export type NormalizedOptions = Required<Pick<BrokerOptions, Defaulted>> &
  Omit<BrokerOptions, Defaulted | 'connectRate' | 'loginThrottle'> & { connectRate: ConnectRateOptions | false; loginThrottle: Required<LoginThrottleOptions> };

export const DEFAULT_MAX_PACKET_BYTES = 1024 * 1024;
/** Also Mosquitto's max_queued_messages in deploy/, so both brokers hold as much for an offline session. */
export const DEFAULT_MAX_QUEUED_MESSAGES = 10_000;
export const DEFAULT_BROKER_HOST = '127.0.0.1';
export const DEFAULT_BROKER_PORT = 1883;
export const DEFAULT_MAX_UNSENT_BYTES = 32 * 1024 * 1024;
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

/** Loopback means only this machine can connect: 127.0.0.0/8, ::1, localhost. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  if (host.startsWith('::ffff:')) return isLoopback(host.slice(7));
  return isIP(host) === 4 && host.startsWith('127.');
}

function port(name: string, v: unknown, allowZero = true): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < (allowZero ? 0 : 1) || v > 65535) {
    throw new TypeError(`${name} must be an integer port between ${allowZero ? 0 : 1} and 65535, got ${JSON.stringify(v)}`);
  }
  return v;
}

function positive(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new TypeError(`${name} must be a positive integer, got ${JSON.stringify(v)}`);
  return v;
}

/** Explains how to secure a broker that would otherwise be open to the network. */
export class InsecureBrokerError extends Error {
  readonly code = 'INSECURE_BROKER';
  constructor(host: string) {
    super(
      `refusing to listen on ${host} without authentication: anyone who can reach it could run commands on every agent.\n` +
        `Add users and pass the users file:\n` +
        `  conplyent broker user add NAME --role agent        (one per host; NAME is the host name)\n` +
        `  conplyent broker user add ops --role controller\n` +
        `  conplyent broker --host ${host} --users FILE\n` +
        `or, on a network you trust completely, say so with --allow-unauthenticated.`,
    );
    this.name = 'InsecureBrokerError';
  }
}

export function normalizeOptions(opts: BrokerOptions): NormalizedOptions {
  const host = opts.host ?? DEFAULT_BROKER_HOST;
  if (typeof host !== 'string' || host.length === 0) throw new TypeError(`host must be a non-empty string, got ${JSON.stringify(host)}`);
  const out: NormalizedOptions = {
    ...opts,
    host,
    port: port('port', opts.port ?? DEFAULT_BROKER_PORT),
    maxPacketBytes: positive('maxPacketBytes', opts.maxPacketBytes ?? DEFAULT_MAX_PACKET_BYTES),
    maxConnections: positive('maxConnections', opts.maxConnections ?? 10_000),
    maxQueuedMessages: positive('maxQueuedMessages', opts.maxQueuedMessages ?? DEFAULT_MAX_QUEUED_MESSAGES),
    maxUnsentBytes: positive('maxUnsentBytes', opts.maxUnsentBytes ?? DEFAULT_MAX_UNSENT_BYTES),
    connectTimeoutMs: positive('connectTimeoutMs', opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS),
    loginThrottle: { freeFailures: 5, baseDelayMs: 250, maxDelayMs: 10_000, windowMs: 15 * 60_000, ...opts.loginThrottle },
    connectRate: opts.connectRate === false ? false : { max: 100, windowMs: 1000, exemptLoopback: true, ...opts.connectRate },
  };
  if (out.connectRate) {
    positive('connectRate.max', out.connectRate.max);
    positive('connectRate.windowMs', out.connectRate.windowMs);
  }
  for (const k of ['baseDelayMs', 'maxDelayMs', 'windowMs'] as const) positive(`loginThrottle.${k}`, out.loginThrottle[k]);
  if (!Number.isInteger(out.loginThrottle.freeFailures) || out.loginThrottle.freeFailures < 0) {
    throw new TypeError(`loginThrottle.freeFailures must be a non-negative integer, got ${JSON.stringify(out.loginThrottle.freeFailures)}`);
  }
  if (opts.wsPort !== undefined) port('wsPort', opts.wsPort);
  if (opts.tls) {
    port('tls.port', opts.tls.port);
    for (const k of ['cert', 'key'] as const) if (typeof opts.tls[k] !== 'string') throw new TypeError(`tls.${k} must be a file path`);
  }
  if (opts.cluster !== undefined) {
    if (opts.dataDir !== undefined) throw new TypeError('cluster and dataDir exclude each other: with cluster, Redis holds the state');
    parseClusterUrl(opts.cluster);
  }
  if (opts.clusterHeartbeatMs !== undefined) positive('clusterHeartbeatMs', opts.clusterHeartbeatMs);
  if (!opts.usersFile && !opts.allowUnauthenticated && !isLoopback(host)) throw new InsecureBrokerError(host);
  return out;
}
