// startBroker: aedes with our listeners, limits, users and ACL, and optional on-disk state.
import { disableCounterDedupe, forwardOnce } from './forward-dedupe.js';
import { Aedes, type AedesOptions, type Client } from 'aedes';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { authHooks, openHooks } from './auth.js';
import { ConnectionGuard } from './conn-guard.js';
import { tcpListener, tlsListener, wsListener, type Listener } from './listeners.js';
import { normalizeOptions, type BrokerOptions } from './options.js';
import { PacketSizeGuard } from './packet-guard.js';
import { memoryPersistence, openPersistence, type AedesPersistence } from './persistence.js';
import { readUsers } from './users-file.js';
import { openCluster } from './cluster.js';
import { boundQueues } from './queue-bound.js';
import { dropNotice } from './drop-notice.js';
import { LoginThrottle } from './login-throttle.js';
import { boundUnsent } from './slow-consumer.js';

/** A broker that is listening; `close()` stops the listeners, disconnects clients and flushes state. */
export interface RunningBroker {
  aedes: Aedes;
  /** The bound MQTT TCP port (useful with port 0). */
  port: number;
  wsPort?: number;
  tlsPort?: number;
  /** `mqtt://host:port` of the TCP listener. */
  url: string;
  close(): Promise<void>;
}

/** Fails at start, not at the first CONNECT, when the users file is missing, broken or empty. */
async function checkUsersFile(file: string): Promise<void> {
  const users = await readUsers(file);
  if (users.size === 0) {
    throw new Error(`users file ${file} has no users, so nobody could connect: add them with \`conplyent broker user add NAME --role agent|controller|observer\``);
  }
}

type ParsingClient = Client & { _parser: { parse(buf: Buffer): unknown } };

/**
 * Starts the embedded broker.
 * @example
 * const broker = await startBroker({ port: 0 });
 * console.log(broker.url); // mqtt://127.0.0.1:40123
 * await broker.close();
 */
export async function startBroker(options: BrokerOptions = {}): Promise<RunningBroker> {
  const opts = normalizeOptions(options);
  const log = opts.logger?.child({ part: 'broker' });
  if (opts.usersFile) await checkUsersFile(opts.usersFile);
  const cluster = opts.cluster ? await openCluster(opts.cluster, log) : undefined;
  const store: AedesPersistence = cluster?.persistence ?? (opts.dataDir ? await openPersistence(opts.dataDir) : memoryPersistence());
  let aedes: Aedes | undefined;
  const persistence = boundQueues(store, opts.maxQueuedMessages, log, (clientId, packet) => {
    const drop = dropNotice(clientId, packet, opts.maxQueuedMessages);
    if (!drop || !aedes) return;
    log?.warn({ client: clientId, job: drop.notice.job, topic: drop.notice.topic }, 'command dropped: offline queue full');
    aedes.publish({ cmd: 'publish', topic: drop.topic, payload: Buffer.from(JSON.stringify(drop.notice)), qos: 1, retain: false, dup: false }, () => {});
  });
  const addresses = new WeakMap<Client, string | undefined>();
  const throttle = new LoginThrottle(opts.loginThrottle);
  const hooks = opts.usersFile ? authHooks(opts.usersFile, { throttle, addressOf: (c) => addresses.get(c) }, log) : openHooks();
  const aedesOpts: AedesOptions = {
    ...hooks,
    preConnect: (client, _packet, done) => {
      disableCounterDedupe(client);
      done(null, true);
    },
    authorizeForward: forwardOnce,
    persistence,
    // Host names are up to 64 characters; MQTT 3.1's 23-character client id limit would refuse them.
    maxClientsIdLength: 128,
    // conplyent topics have at most 4 levels; nobody needs 100.
    maxTopicLevels: 16,
    connectTimeout: opts.connectTimeoutMs,
    // A backstop only: boundUnsent (below) keeps writes from ever waiting on 'drain'.
    drainTimeout: 10_000,
    ...(cluster && { mq: cluster.mq as AedesOptions['mq'], heartbeatInterval: opts.clusterHeartbeatMs ?? 5_000 }),
  };
  try {
    aedes = await Aedes.createBroker(aedesOpts);
  } catch (e) {
    await store.destroy().catch(() => {});
    if (cluster) await new Promise<void>((r) => cluster.mq.close(() => r()));
    throw e;
  }
  aedes.on('clientError', (client, err) => log?.debug({ client: client?.id, err: err.message }, 'client error'));
  aedes.on('connectionError', (client, err) => log?.debug({ err: err.message }, 'connection error'));

  const guard = new ConnectionGuard(opts.maxConnections, opts.connectRate);
  const streams = new Set<Duplex>();
  const accept = (stream: Duplex, socket: Socket, req?: IncomingMessage) => {
    const admitted = guard.admit(socket.remoteAddress);
    if (!admitted.ok) {
      log?.warn({ ip: socket.remoteAddress }, admitted.reason);
      stream.destroy();
      socket.destroy();
      return;
    }
    streams.add(stream);
    stream.once('close', () => {
      streams.delete(stream);
      admitted.release();
    });
    // Before aedes.handle: its CONNECT handling writes through stream.write.
    let client: ParsingClient | undefined;
    boundUnsent(stream, opts.maxUnsentBytes, (buffered) => {
      log?.warn({ client: client?.id, ip: socket.remoteAddress, buffered, maxUnsentBytes: opts.maxUnsentBytes }, 'client stopped reading: disconnected (slow consumer)');
      stream.destroy();
    });
    const handled = aedes.handle(stream, req) as ParsingClient;
    client = handled;
    addresses.set(handled, socket.remoteAddress);
    const sizeGuard = new PacketSizeGuard(opts.maxPacketBytes);
    const parser = handled._parser;
    const parse = parser.parse.bind(parser);
    parser.parse = (buf: Buffer) => {
      const verdict = sizeGuard.feed(buf);
      if (verdict.ok) return parse(buf);
      log?.warn({ client: handled.id, ip: socket.remoteAddress }, verdict.reason);
      handled.emit('error', new Error(verdict.reason));
      stream.destroy();
      return 0;
    };
  };

  const listeners: Listener[] = [];
  const closeAll = async () => {
    // Stop accepting first; a server's close completes only once its connections are gone.
    const stopped = Promise.all(listeners.map((l) => l.close()));
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    // Sockets that never sent CONNECT are not aedes clients: end them too.
    for (const s of streams) s.destroy();
    await stopped;
    await store.destroy().catch(() => {});
  };
  try {
    const tcp = await tcpListener(opts.host, opts.port, accept);
    listeners.push(tcp);
    const ws = opts.wsPort !== undefined ? await wsListener(opts.host, opts.wsPort, opts.maxPacketBytes, accept) : undefined;
    if (ws) listeners.push(ws);
    const tls = opts.tls ? await tlsListener(opts.host, opts.tls, accept) : undefined;
    if (tls) listeners.push(tls);
    const urlHost = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
    log?.info({ port: tcp.port, wsPort: ws?.port, tlsPort: tls?.port, auth: Boolean(opts.usersFile), dataDir: opts.dataDir, cluster: Boolean(cluster) }, 'broker listening');
    let closing: Promise<void> | undefined;
    return {
      aedes,
      port: tcp.port,
      wsPort: ws?.port,
      tlsPort: tls?.port,
      url: `mqtt://${urlHost}:${tcp.port}`,
      close: () => (closing ??= closeAll()),
    };
  } catch (e) {
    await closeAll();
    throw e;
  }
}
