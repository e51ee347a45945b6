// A connection that cannot be brought online (the broker refuses a subscription, or the link drops
// between CONNACK and SUBACK) is logged and retried by the agent; it must never crash a process
// that embeds the agent without an 'error' listener.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent, type Agent } from '../../agent/index.js';
import { sleep } from '../helpers/wire.js';

describe('agent coming online against a refusing broker', () => {
  let aedes: Aedes;
  let server: Server;
  let url: string;
  let dir: string;
  let agent: Agent | undefined;
  const rejections: unknown[] = [];
  const onRejection = (r: unknown) => rejections.push(r);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cp-connerr-'));
    // A real broker whose ACL refuses the agent's fleet subscription (SUBACK 0x80).
    aedes = await Aedes.createBroker({
      authorizeSubscribe: (_client, sub, done) => done(null, sub.topic.includes('_all') ? (null as any) : sub),
    });
    server = createServer((socket) => {
      socket.setNoDelay(true);
      aedes.handle(socket);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `mqtt://127.0.0.1:${(server.address() as { port: number }).port}`;
    process.on('unhandledRejection', onRejection);
  });

  afterAll(async () => {
    process.off('unhandledRejection', onRejection);
    await agent?.stop();
    await new Promise<void>((r) => aedes.close(() => r()));
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('a refused subscription without an error listener is no unhandled rejection; the agent stays up and connected', async () => {
    agent = createAgent({ broker: url, name: 'refused-1', stateDir: join(dir, 'state'), keepaliveSec: 5 });
    void agent.start().catch(() => undefined);
    await sleep(1_500);
    expect(rejections).toEqual([]);
    expect(agent.connected).toBe(true);
  });
});
