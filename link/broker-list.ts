// Several broker URLs, the nodes of one cluster (NATS, EMQX, embedded brokers sharing Redis): the
// agent and the controller dial the next one whenever a connection closes, so a dead node costs one
// reconnect instead of a retry loop against it while the others are up.
import type { IClientOptions, MqttClient } from 'mqtt';
import { z } from 'zod';
import { lazySchema } from '../protocol/lazy-schema.js';
import { brokerUrlProblem } from './broker-url.js';

/** At most this many URLs in one list: a cluster has a handful of nodes, not hundreds. */
export const MAX_BROKERS = 16;

/** `mqtt://a:1883,mqtt://b:1883` or an array of URLs, as a list (blanks dropped). */
export function splitBrokerList(value: string | readonly string[]): string[] {
  const parts = typeof value === 'string' ? value.split(',') : value;
  return parts.map((s) => s.trim()).filter((s) => s.length > 0);
}

/**
 * One URL, a comma-separated list, or an array: always a list out. Every entry is checked, so a
 * typo in the third node is an option error at start-up, not a surprise during the first failover.
 */
export const brokerListSchema = lazySchema(() => z
  .union([z.string(), z.array(z.string())])
  .transform((v) => splitBrokerList(v))
  .superRefine((urls, ctx) => {
    if (urls.length === 0) ctx.addIssue({ code: 'custom', message: 'expected a URL such as mqtt://host:1883 (or several, comma-separated)' });
    if (urls.length > MAX_BROKERS) ctx.addIssue({ code: 'custom', message: `at most ${MAX_BROKERS} broker URLs` });
    for (const url of urls) {
      const problem = brokerUrlProblem(url);
      const which = urls.length > 1 ? `"${url}": ` : '';
      if (problem) ctx.addIssue({ code: 'custom', message: `${which}expected a URL such as mqtt://host:1883 (${problem})` });
    }
  }));

const DEFAULT_PORTS: Record<string, number> = { mqtt: 1883, tcp: 1883, mqtts: 8883, tls: 8883, ssl: 8883, ws: 80, wss: 443 };

/**
 * Points an mqtt.js client's options at `url`; the next (re)connect dials it. mqtt.js builds every
 * stream from `client.options` (the object its connect() parsed the first URL into). Its own
 * `servers` option is not used: it carries no WebSocket path, and its TLS stream keeps the first
 * host's `servername` for every later server, so certificate checks would fail on the second node.
 */
export function aimAt(options: IClientOptions, url: string): void {
  const u = new URL(url);
  let protocol = u.protocol.replace(/:$/, '');
  // mqtt.js upgrades a plain scheme to TLS when a client certificate is given; keep doing so.
  if (options.cert && options.key) protocol = protocol === 'ws' ? 'wss' : protocol === 'mqtt' || protocol === 'tcp' ? 'mqtts' : protocol;
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  Object.assign(options, { protocol, host, hostname: host, port: u.port ? Number(u.port) : DEFAULT_PORTS[protocol] });
  (options as { path?: string }).path = protocol.startsWith('ws') ? `${u.pathname}${u.search}` : undefined;
  delete (options as { servername?: string }).servername;
}

/** Which URL of the list a client is on; moves to the next one each time the connection closes. */
export class BrokerRotation {
  private index: number;

  constructor(
    readonly urls: readonly string[],
    start = 0,
  ) {
    this.index = start % urls.length;
  }

  get current(): string {
    return this.urls[this.index]!;
  }

  /**
   * Follows `client`: after every close the next reconnect dials the next URL (round robin; the
   * caller's backoff still spaces the attempts). A single URL never moves.
   */
  follow(client: MqttClient): this {
    if (this.urls.length > 1) {
      client.on('close', () => {
        this.index = (this.index + 1) % this.urls.length;
        aimAt(client.options, this.current);
      });
    }
    return this;
  }
}
