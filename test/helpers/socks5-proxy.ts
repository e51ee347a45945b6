// A SOCKS5 proxy (RFC 1928: no authentication, CONNECT only) that forwards to loopback addresses
// only, and counts the connections it carried: enough to prove a client dialled through it.
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface Socks5Proxy {
  url: string;
  /** Connections forwarded so far. */
  forwarded(): number;
  close(): Promise<void>;
}

/** Reads the CONNECT request's target; undefined until all of it arrived. */
function target(b: Buffer): { host: string; port: number; length: number } | undefined {
  if (b.length < 5) return undefined;
  const atyp = b[3];
  const hostLen = atyp === 1 ? 4 : atyp === 4 ? 16 : 1 + b[4]!;
  const length = 4 + hostLen + 2;
  if (b.length < length) return undefined;
  const host = atyp === 1 ? [...b.subarray(4, 8)].join('.') : atyp === 3 ? b.subarray(5, 5 + b[4]!).toString('latin1') : '::1';
  return { host, port: b.readUInt16BE(length - 2), length };
}

export async function startSocks5Proxy(): Promise<Socks5Proxy> {
  let count = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    let buf = Buffer.alloc(0);
    let stage: 'greeting' | 'request' = 'greeting';
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (stage === 'greeting') {
        if (buf.length < 2 || buf.length < 2 + buf[1]!) return;
        buf = buf.subarray(2 + buf[1]!);
        client.write(Buffer.from([5, 0])); // version 5, no authentication
        stage = 'request';
      }
      const t = target(buf);
      if (!t) return;
      client.off('data', onData);
      if (buf[1] !== 1 || !(t.host === '127.0.0.1' || t.host === 'localhost')) return void client.end(Buffer.from([5, 2, 0, 1, 0, 0, 0, 0, 0, 0]));
      const rest = buf.subarray(t.length);
      const up = connect(t.port, '127.0.0.1', () => {
        count++;
        client.write(Buffer.from([5, 0, 0, 1, 127, 0, 0, 1, 0, 0]));
        if (rest.length) up.write(rest);
        client.pipe(up).pipe(client);
      });
      sockets.add(up);
      up.on('close', () => sockets.delete(up));
      up.on('error', () => client.destroy());
    };
    client.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `socks5://127.0.0.1:${port}`,
    forwarded: () => count,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
