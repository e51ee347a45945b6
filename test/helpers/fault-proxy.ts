// A loopback TCP proxy between a client and the broker that injects the network faults a
// fleet meets (dead links, NAT timeouts, resets):
//   pass       bytes flow both ways (optionally delayed)
//   cut        every current connection is reset (RST), both sides at once
//   blackhole  current connections go silent: bytes in both directions are dropped and neither side
//              hears of the other's close. That is an expired NAT mapping: the client notices only by
//              its keepalive, the broker only by its own. New connections are held unanswered.
//   heal       new connections pass again. Connections of the blackhole stay dead (the mapping is
//              gone); their client side is reset, as the far end's RST would after a retransmit, and
//              their broker side is left hanging until the broker's keepalive ends it.
import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net';

const LOOPBACK = '127.0.0.1';

export type ProxyMode = 'pass' | 'blackhole';

interface Pair {
  client: Socket;
  upstream?: Socket;
  /** Blackholed: nothing crosses any more, closes included. */
  dead: boolean;
  /** Accepted during a blackhole: never connected upstream. */
  held: boolean;
}

export interface FaultProxy {
  /** The proxy's own port on 127.0.0.1; give clients `url`. */
  port: number;
  url: string;
  mode: ProxyMode;
  /** Connections accepted so far (all modes). */
  accepted: number;
  /** Client connections currently open through the proxy (dead ones included). */
  open(): number;
  /** Adds latency to every chunk in both directions (0 = none); order is kept. */
  delay(ms: number): void;
  /** RSTs every current connection on both sides. */
  cut(): void;
  /** RSTs the client side only and leaves the broker side open and silent (a late Will later). */
  cutClientSide(): void;
  blackhole(): void;
  heal(): void;
  close(): Promise<void>;
}

/** Starts a proxy on 127.0.0.1 (free port) that forwards to 127.0.0.1:targetPort. */
export async function startFaultProxy(targetPort: number): Promise<FaultProxy> {
  const pairs = new Set<Pair>();
  let delayMs = 0;
  let closed = false;

  const reset = (s: Socket | undefined) => {
    if (s && !s.destroyed) s.resetAndDestroy();
  };
  const forget = (p: Pair) => {
    if (p.client.destroyed && (!p.upstream || p.upstream.destroyed)) pairs.delete(p);
  };

  /** One direction: in order, after the current delay, unless the pair died meanwhile. */
  const pipe = (p: Pair, from: Socket, to: () => Socket | undefined) => {
    let chain = Promise.resolve();
    from.on('data', (chunk: Buffer) => {
      if (p.dead) return;
      const wait = delayMs;
      chain = chain.then(async () => {
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const dst = to();
        if (!p.dead && dst && !dst.destroyed) dst.write(chunk);
      });
    });
  };

  const server: Server = createServer({ noDelay: true }, (client) => {
    proxy.accepted++;
    client.on('error', () => {});
    if (closed) return void client.destroy();
    const p: Pair = { client, dead: proxy.mode === 'blackhole', held: proxy.mode === 'blackhole' };
    pairs.add(p);
    client.once('close', () => {
      if (!p.dead) reset(p.upstream);
      forget(p);
    });
    if (p.held) return; // a dead network answers nothing; heal() resets it so the client retries
    const upstream = tcpConnect({ host: LOOPBACK, port: targetPort, noDelay: true });
    p.upstream = upstream;
    upstream.on('error', () => {});
    upstream.once('close', () => {
      if (!p.dead) reset(client);
      forget(p);
    });
    pipe(p, client, () => p.upstream);
    pipe(p, upstream, () => p.client);
  });
  server.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => resolve());
  });
  const port = (server.address() as { port: number }).port;

  const proxy: FaultProxy = {
    port,
    url: `mqtt://${LOOPBACK}:${port}`,
    mode: 'pass',
    accepted: 0,
    open: () => [...pairs].filter((p) => !p.client.destroyed).length,
    delay(ms) {
      delayMs = Math.max(0, ms);
    },
    cut() {
      for (const p of pairs) {
        p.dead = true;
        reset(p.client);
        reset(p.upstream);
      }
      pairs.clear();
    },
    cutClientSide() {
      for (const p of pairs) {
        p.dead = true;
        reset(p.client);
      }
    },
    blackhole() {
      proxy.mode = 'blackhole';
      for (const p of pairs) p.dead = true;
    },
    heal() {
      proxy.mode = 'pass';
      for (const p of pairs) if (p.dead) reset(p.client);
    },
    async close() {
      closed = true;
      for (const p of pairs) {
        p.dead = true;
        p.client.destroy();
        p.upstream?.destroy();
      }
      pairs.clear();
      await Promise.race([new Promise((r) => server.close(() => r(undefined))), new Promise((r) => setTimeout(r, 2_000))]);
    },
  };
  return proxy;
}
