// The three transports of the embedded broker: MQTT over TCP, over TLS (mqtts) and over WebSocket.
// Every accepted stream goes through one `accept` function (limits, TCP_NODELAY, aedes.handle).
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createServer as createTlsServer } from 'node:tls';
import { WebSocketServer, createWebSocketStream } from 'ws';
import type { TlsOptions } from './options.js';

/** Hands a client stream to the broker; `socket` is the TCP socket under it (for address and Nagle). */
export type Accept = (stream: Duplex, socket: Socket, req?: IncomingMessage) => void;

export interface Listener {
  server: Server;
  port: number;
  close(): Promise<void>;
}

function listen(server: Server, port: number, host: string, what: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      // The code travels with the error so the CLI can tell a busy port apart without reading the text.
      reject(Object.assign(new Error(`cannot listen for ${what} on ${host}:${port}: ${err.code === 'EADDRINUSE' ? 'the port is in use' : err.message}`), { code: err.code }));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      // After listening, an accept error (EMFILE...) must not crash the process; the next accept may work.
      server.on('error', () => {});
      resolve((server.address() as { port: number }).port);
    });
  });
}

function closer(server: Server, extra?: () => void): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      extra?.();
      server.close(() => resolve());
    });
}

/** Nagle's algorithm adds 40–90 ms per small write on loopback (why Mosquitto has set_tcp_nodelay): off on every accepted socket. */
function noDelay(socket: Socket): void {
  socket.setNoDelay(true);
}

export async function tcpListener(host: string, port: number, accept: Accept): Promise<Listener> {
  const server = createNetServer((socket) => {
    noDelay(socket);
    accept(socket, socket);
  });
  const bound = await listen(server, port, host, 'MQTT');
  return { server, port: bound, close: closer(server) };
}

export async function tlsListener(host: string, tls: TlsOptions, accept: Accept): Promise<Listener> {
  const read = (what: string, file: string) => {
    try {
      return readFileSync(file);
    } catch (e) {
      throw new Error(`cannot read TLS ${what} file ${file}: ${(e as Error).message}`);
    }
  };
  const server = createTlsServer(
    { cert: read('cert', tls.cert), key: read('key', tls.key), ...(tls.ca ? { ca: read('ca', tls.ca), requestCert: true, rejectUnauthorized: true } : {}) },
    (socket) => accept(socket, socket),
  );
  // 'connection' hands us the raw TCP socket before the handshake: set Nagle off there.
  server.on('connection', noDelay);
  server.on('tlsClientError', () => {}); // a failed handshake is that client's problem, never the broker's
  const bound = await listen(server, tls.port, host, 'MQTT over TLS');
  return { server, port: bound, close: closer(server) };
}

export async function wsListener(host: string, port: number, maxPacketBytes: number, accept: Accept): Promise<Listener> {
  const http = createHttpServer((_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain' }).end('MQTT over WebSocket: connect with ws://\n');
  });
  http.on('connection', noDelay);
  // One WebSocket message normally carries one MQTT packet: refuse far larger frames before buffering them.
  const wss = new WebSocketServer({ server: http, maxPayload: maxPacketBytes + 1024 });
  wss.on('connection', (ws, req) => {
    const stream = createWebSocketStream(ws);
    stream.on('error', () => ws.terminate());
    accept(stream, req.socket, req);
  });
  wss.on('error', () => {});
  const bound = await listen(http, port, host, 'MQTT over WebSocket');
  return { server: http, port: bound, close: closer(http, () => wss.close()) };
}
