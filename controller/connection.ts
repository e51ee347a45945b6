// The controller's MQTT connection: options normalised once here, then a plain mqtt.js client.
import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { nanoid } from 'nanoid';
import type { Logger } from 'pino';
import { ControllerError } from './errors.js';

export interface ConnectOptions {
  username?: string;
  password?: string;
  /** CA bundle: a file path or a PEM string. */
  ca?: string;
  /** Client certificate: a file path or a PEM string. */
  cert?: string;
  /** Client key: a file path or a PEM string. */
  key?: string;
  /** Skip TLS certificate verification (test brokers only). */
  insecure?: boolean;
  /** Stable id for the persistent session; default `ctl-<nanoid>`. */
  clientId?: string;
  keepaliveSec?: number;
  logger?: Logger;
  /** How long connect() waits for the first CONNACK; default 10 s. */
  connectTimeoutMs?: number;
  /**
   * Keep the broker session after close() (default false): set it, with a fixed clientId, for a
   * controller that restarts and wants the events queued while it was away.
   */
  keepSession?: boolean;
  /**
   * Subscribe once to every job topic (`conplyent/+/job/+`) instead of once per job (default false).
   * A command then goes out without waiting a SUBACK round trip, which roughly halves a round trip
   * for scripts that send many commands (lab automation), at the price of receiving every job's
   * events of the whole fleet (dropped unless they are ours). Use it with small fleets.
   */
  allJobs?: boolean;
  /** How long waitForHosts() waits for retained statuses to stop arriving; default 150 ms. */
  presenceSettleMs?: number;
}

/** PEM text is used as is; anything else is a path we read now, so a typo fails at connect, not at the TLS handshake. */
function pem(name: string, value: string | undefined): Buffer | undefined {
  if (value === undefined) return undefined;
  if (value.includes('-----BEGIN')) return Buffer.from(value);
  try {
    return readFileSync(value);
  } catch (e) {
    throw new ControllerError('BAD_OPTION', `${name}: cannot read "${value}": ${(e as Error).message}`);
  }
}

export function clientOptions(url: string, o: ConnectOptions): IClientOptions {
  try {
    const u = new URL(url);
    if (!['mqtt:', 'mqtts:', 'tcp:', 'tls:', 'ws:', 'wss:'].includes(u.protocol)) throw new Error(`unsupported scheme ${u.protocol}`);
  } catch (e) {
    throw new ControllerError('BAD_OPTION', `broker URL "${url}" is invalid: ${(e as Error).message}`);
  }
  if (o.keepaliveSec !== undefined && !(Number.isInteger(o.keepaliveSec) && o.keepaliveSec >= 0)) {
    throw new ControllerError('BAD_OPTION', `keepaliveSec must be a non-negative integer, got ${o.keepaliveSec}`);
  }
  return {
    // MQTT 3.1.1 works on every broker we support (Mosquitto, aedes, EMQX).
    protocolVersion: 4,
    // A persistent session keeps our subscriptions and queues job events while we are away (issue 8).
    clean: false,
    clientId: o.clientId ?? `ctl-${nanoid(12)}`,
    keepalive: o.keepaliveSec ?? 30,
    reconnectPeriod: 1000,
    connectTimeout: o.connectTimeoutMs ?? 10_000,
    username: o.username,
    password: o.password,
    ca: pem('ca', o.ca),
    cert: pem('cert', o.cert),
    key: pem('key', o.key),
    rejectUnauthorized: !o.insecure,
  };
}

/** Connects and resolves on the first CONNACK; rejects with a CONNECT error (never retries forever at first connect). */
export function openClient(url: string, o: ConnectOptions): Promise<MqttClient> {
  const opts = clientOptions(url, o);
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, opts);
    // Nagle costs 40-90 ms per round trip; every new socket needs it off again (LESSONS).
    client.on('connect', () => (client.stream as any)?.setNoDelay?.(true));
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
