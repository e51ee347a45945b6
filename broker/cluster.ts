// `--cluster redis://…`: several embedded brokers act as one through Redis — a shared message bus
// (mqemitter-redis) and shared state (aedes-persistence-redis: sessions, queued QoS 1 messages,
// retained presence, Wills). Each broker publishes a heartbeat; when one stops beating for three
// intervals, another publishes the Wills of its clients (aedes.js, _clearWills).
//
// Versions are pinned (package.json): aedes-persistence-redis 11.2.2 and mqemitter-redis 7.2.1 with
// aedes 1.2, mended by cluster-adapter.ts. aedes-persistence-redis 12.0.0 is outside aedes 1.2's
// declared peer range (^11.2.1) and has the same lost-SUBACK defect; a change of any of the three
// must pass test/broker/cluster-redis.test.ts.
import type { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import type { Logger } from 'pino';
import type { AedesPersistence } from './persistence.js';
import { adaptRedisPersistence } from './cluster-adapter.js';

const require = createRequire(import.meta.url);
const REACH_MS = 5_000;

/** The aedes mqemitter interface, as far as we use it. */
export interface MqEmitter {
  close(cb: () => void): void;
}

export interface ClusterBackend {
  persistence: AedesPersistence;
  mq: MqEmitter;
}

interface RedisConn {
  ping(): Promise<string>;
  disconnect(): void;
  on(event: 'error', listener: (err: Error) => void): void;
}

/** Clear error for a bad --cluster value; names the option and the value. */
export function parseClusterUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new TypeError(`cluster must be a redis:// or rediss:// URL, got ${JSON.stringify(url)}`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new TypeError(`cluster must be a redis:// or rediss:// URL, got ${JSON.stringify(url)}`);
  return u;
}

/** ioredis options from a URL: host, port, user, password, database number, TLS for rediss://. */
function redisOptions(u: URL): Record<string, unknown> {
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new TypeError(`cluster URL database must be a number, got ${JSON.stringify(u.pathname.slice(1))}`);
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port ? Number(u.port) : 6379,
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db,
    tls: u.protocol === 'rediss:' ? {} : undefined,
  };
}

/**
 * Connects the shared bus and store, and fails within a few seconds with the URL in the message when
 * Redis cannot be reached (ioredis would otherwise retry in the background forever). Later losses of
 * Redis are logged once per distinct error; ioredis reconnects by itself.
 */
export async function openCluster(url: string, log?: Logger): Promise<ClusterBackend> {
  const opts = redisOptions(parseClusterUrl(url));
  const safe = url.replace(/\/\/[^@/]*@/, '//***@');
  const Redis = require('ioredis') as new (o: object) => RedisConn;
  const mqemitterRedis = require('mqemitter-redis') as (o: object) => MqEmitter & { state: EventEmitter };
  const AsyncRedisPersistence = require('aedes-persistence-redis/asyncPersistence.js') as new (o: object) => AedesPersistence;
  // Our own connections, so every one has an error listener: an unheard ioredis 'error' is printed
  // to the console, and mqemitter-redis re-emits it on an EventEmitter that crashes the process.
  const conns = [new Redis(opts), new Redis(opts), new Redis(opts)];
  let lastError: string | undefined;
  // Before start() returns, the first connection error fails it: a broker that cannot reach Redis
  // must not accept clients it cannot serve.
  let failStart: ((err: Error) => void) | undefined;
  const onError = (err: Error) => {
    failStart?.(err);
    if (err.message === lastError) return;
    lastError = err.message;
    log?.warn({ redis: safe, err: err.message }, 'cluster: Redis connection error (retrying)');
  };
  for (const c of conns) c.on('error', onError);
  const mq = mqemitterRedis({ pubConn: conns[0], subConn: conns[1] });
  mq.state.on('error', onError);
  const persistence = new AsyncRedisPersistence({ conn: conns[2] });
  try {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      failStart = reject;
      timer = setTimeout(() => reject(new Error(`no answer within ${REACH_MS} ms`)), REACH_MS);
    });
    await Promise.race([Promise.all(conns.map((c) => c.ping())), late]).finally(() => {
      clearTimeout(timer);
      failStart = undefined;
    });
  } catch (e) {
    for (const c of conns) c.disconnect();
    throw new Error(`cannot reach Redis for --cluster at ${safe}: ${(e as Error).message}`);
  }
  return { persistence: adaptRedisPersistence(persistence), mq };
}
