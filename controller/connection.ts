// The controller's MQTT connection: options normalised once here, then a plain mqtt.js client.
import type { KeyObject } from 'node:crypto';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { nanoid } from 'nanoid';
import type { Logger } from 'pino';
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

/** The MQTT options of the controller's connection; a bad URL or option is a BAD_OPTION before anything is dialled. */
export function clientOptions(url: string, o: ConnectOptions): IClientOptions {
  try {
    return mqttOptions(url, { ...o, clientId: o.clientId ?? `ctl-${nanoid(12)}`, reconnectPeriodMs: 1000 });
  } catch (e) {
    throw new ControllerError('BAD_OPTION', (e as Error).message);
  }
}

/** Connects and resolves on the first CONNACK; rejects with a CONNECT error (never retries forever at first connect). */
export function openClient(url: string, o: ConnectOptions): Promise<MqttClient> {
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
