// Every wait after connecting has a deadline: a broker that accepts the connection but never
// acknowledges a SUBSCRIBE makes connect() fail with a SUBSCRIBE error instead of hanging, and each
// SUBSCRIBE carries one topic (clustered aedes never acknowledges one with several).
import { createServer, type Server, type Socket } from 'node:net';
import mqttPacket from 'mqtt-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, ControllerError } from '../../controller/index.js';

describe('a broker that never sends SUBACK', () => {
  let server: Server;
  let port = 0;
  const subscribes: string[][] = [];
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    server = createServer((socket) => {
      sockets.add(socket);
      const parser = mqttPacket.parser({ protocolVersion: 4 });
      parser.on('packet', (p) => {
        if (p.cmd === 'connect') socket.write(mqttPacket.generate({ cmd: 'connack', returnCode: 0, sessionPresent: false }));
        if (p.cmd === 'subscribe') subscribes.push(p.subscriptions.map((s) => s.topic));
        if (p.cmd === 'pingreq') socket.write(mqttPacket.generate({ cmd: 'pingresp' }));
      });
      socket.on('data', (d) => parser.parse(d));
      socket.on('error', () => undefined);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  });

  it('connect() rejects with SUBSCRIBE within subscribeTimeoutMs, one topic per SUBSCRIBE packet', async () => {
    const err = await connect(`mqtt://127.0.0.1:${port}`, { subscribeTimeoutMs: 500 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ControllerError);
    expect((err as ControllerError).code).toBe('SUBSCRIBE');
    expect((err as Error).message).toMatch(/did not acknowledge the subscription to conplyent\/.* within 500 ms/);
    expect(subscribes.length).toBeGreaterThanOrEqual(3);
    for (const topics of subscribes) expect(topics).toHaveLength(1);
    expect(subscribes.flat()).toEqual(expect.arrayContaining(['conplyent/+/status', 'conplyent/+/errors', 'conplyent/+/job/+']));
  });
});
