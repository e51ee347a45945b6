// Bad clients must not take the broker down: oversized packets, connection floods, and an insecure
// listen address refused before anything binds.
import { createConnection, type Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { InsecureBrokerError, startBroker, type RunningBroker } from '../../broker/index.js';
import { AgentNoticeSchema } from '../../protocol/index.js';
import { brokerKinds, startBrokerKind, type TestBroker } from '../helpers/brokers.js';
import { closed, connect, inbox, WAIT_MS } from './clients.js';

describe.each(brokerKinds())('packet size limit on %s', (kind) => {
  let broker: TestBroker | undefined;
  afterAll(async () => broker?.stop());

  it('drops a client sending a 10 MB publish and keeps serving everyone else', async () => {
    broker = await startBrokerKind(kind);
    const bystander = await connect(broker.url, { clientId: 'bystander' });
    const box = inbox(bystander);
    await bystander.subscribeAsync('conplyent/ok/status', { qos: 1 });
    const big = await connect(broker.url, { clientId: 'big' });
    const gone = closed(big);
    big.publish('conplyent/big/status', Buffer.alloc(10 * 1024 * 1024, 1), { qos: 0 });
    await gone;
    const other = await connect(broker.url, { clientId: 'other' });
    await other.publishAsync('conplyent/ok/status', 'still here', { qos: 1 });
    await box.waitFor('conplyent/ok/status', 'still here');
    expect(box.topics()).not.toContain('conplyent/big/status');
    big.end(true);
    await other.endAsync();
    await bystander.endAsync();
  });
});

describe('embedded broker guards', () => {
  const brokers: RunningBroker[] = [];
  afterAll(async () => {
    for (const b of brokers) await b.close();
  });

  it('refuses a non-loopback address without users, explaining how to add them', async () => {
    const err = await startBroker({ host: '0.0.0.0', port: 0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InsecureBrokerError);
    expect((err as Error).message).toContain('conplyent broker user add NAME --role agent');
    expect((err as Error).message).toContain('--allow-unauthenticated');
  });

  it('refuses to start with a users file that is missing or has no users', async () => {
    await expect(startBroker({ port: 0, usersFile: '/nonexistent/users.json' })).rejects.toThrow(/no users.*conplyent broker user add/);
  });

  it('names the bad option value', async () => {
    await expect(startBroker({ port: 70000 })).rejects.toThrow(/port must be an integer port/);
    await expect(startBroker({ port: 0, maxPacketBytes: -1 })).rejects.toThrow(/maxPacketBytes/);
  });

  it('closes connections over the per-IP rate and keeps serving connected clients', async () => {
    const broker = await startBroker({ port: 0, connectRate: { max: 3, windowMs: 60_000, exemptLoopback: false } });
    brokers.push(broker);
    const first = await connect(broker.url, { clientId: 'first' });
    const sockets: Socket[] = [];
    const ends = Array.from({ length: 6 }, () => {
      const s = createConnection({ host: '127.0.0.1', port: broker.port });
      sockets.push(s);
      return new Promise<boolean>((resolve) => {
        const t = setTimeout(() => resolve(false), 500);
        s.on('error', () => {});
        s.once('close', () => (clearTimeout(t), resolve(true)));
      });
    });
    const closedByBroker = (await Promise.all(ends)).filter(Boolean).length;
    for (const s of sockets) s.destroy();
    // first + 2 more fit in the window of 3; the other 4 are closed at once.
    expect(closedByBroker).toBe(4);
    const box = inbox(first);
    await first.subscribeAsync('conplyent/x/status');
    await first.publishAsync('conplyent/x/status', 'alive');
    await box.waitFor('conplyent/x/status', 'alive');
    await first.endAsync();
  });

  it('closes connections over maxConnections', async () => {
    const broker = await startBroker({ port: 0, maxConnections: 1 });
    brokers.push(broker);
    const first = await connect(broker.url, { clientId: 'one' });
    await expect(connect(broker.url, { clientId: 'two', connectTimeout: WAIT_MS })).rejects.toThrow();
    expect(first.connected).toBe(true);
    await first.endAsync();
  });

  it('bounds the queue of an offline session and delivers what fits, in order', async () => {
    const broker = await startBroker({ port: 0, maxQueuedMessages: 3 });
    brokers.push(broker);
    const session = { clientId: 'away', clean: false };
    const away = await connect(broker.url, session);
    await away.subscribeAsync('conplyent/away/cmd', { qos: 1 });
    await away.endAsync();
    const ctl = await connect(broker.url, { clientId: 'ctl' });
    for (let i = 1; i <= 5; i++) await ctl.publishAsync('conplyent/away/cmd', `m${i}`, { qos: 1 });
    const back = await connect(broker.url, session);
    const box = inbox(back);
    await box.waitFor('conplyent/away/cmd', 'm3');
    // Sent while the session is online (never dropped), after the queue: once it arrives, m4 and m5 would have too.
    await ctl.publishAsync('conplyent/away/cmd', 'sentinel', { qos: 1 });
    await box.waitFor('conplyent/away/cmd', 'sentinel');
    expect(box.got.map((m) => m.payload)).toEqual(['m1', 'm2', 'm3', 'sentinel']);
    await back.endAsync();
    await ctl.endAsync();
  });

  it('[cp-queue-1] tells controllers about each command dropped past the bound, with its job id', async () => {
    const broker = await startBroker({ port: 0, maxQueuedMessages: 2 });
    brokers.push(broker);
    const away = await connect(broker.url, { clientId: 'web-9', clean: false });
    await away.subscribeAsync('conplyent/web-9/cmd', { qos: 1 });
    await away.endAsync();
    const ctl = await connect(broker.url, { clientId: 'ctl' });
    const box = inbox(ctl);
    await ctl.subscribeAsync('conplyent/+/errors', { qos: 1 });
    for (let i = 1; i <= 4; i++) await ctl.publishAsync('conplyent/web-9/cmd', JSON.stringify({ id: `c${i}`, cmd: 'ping' }), { qos: 1 });
    await ctl.publishAsync('conplyent/web-9/cmd', 'exec uptime', { qos: 1 });
    await box.until(() => box.got.length >= 3, 'three dropped notices');
    const notices = box.got.map((m) => ({ ...JSON.parse(m.payload), on: m.topic }));
    expect(notices.map((n) => [n.on, n.type, n.job])).toEqual([
      ['conplyent/web-9/errors', 'dropped', 'c3'],
      ['conplyent/web-9/errors', 'dropped', 'c4'],
      ['conplyent/web-9/errors', 'dropped', undefined],
    ]);
    expect(notices[0].topic).toBe('conplyent/web-9/cmd');
    const { on: _on, ...first } = notices[0];
    expect(AgentNoticeSchema.parse(first).message).toMatch(/queue for offline agent web-9 is full \(2 messages\)/);
    expect(notices[2].excerpt).toBe('exec uptime');
    await ctl.endAsync();
  });

  it('drops clients sending garbage and keeps serving a connected one', async () => {
    const broker = await startBroker({ port: 0 });
    brokers.push(broker);
    const bystander = await connect(broker.url, { clientId: 'bystander' });
    const box = inbox(bystander);
    await bystander.subscribeAsync('conplyent/b/status', { qos: 1 });
    const garbage = [
      Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'),
      Buffer.from([0x00, 0x00]), // reserved packet type [MQTT-2.2.1]
      Buffer.from([0x10, 0x06, 0x00, 0x04, 0x4e, 0x4f, 0x50, 0x45]), // CONNECT with a wrong protocol name
      Buffer.from([0x30, 0x03, 0x00, 0x05, 0x61]), // PUBLISH before CONNECT, topic length past the packet
    ];
    await Promise.all(
      garbage.map(
        (bytes) =>
          new Promise<void>((resolve, reject) => {
            const s = createConnection({ host: '127.0.0.1', port: broker.port });
            const t = setTimeout(() => (s.destroy(), reject(new Error(`not dropped: ${bytes.toString('hex')}`))), WAIT_MS);
            s.on('error', () => {});
            s.once('close', () => (clearTimeout(t), resolve()));
            s.write(bytes);
          }),
      ),
    );
    await bystander.publishAsync('conplyent/b/status', 'fine', { qos: 1 });
    await box.waitFor('conplyent/b/status', 'fine');
    await bystander.endAsync();
  });

  it('drops a client that declares a malformed packet length', async () => {
    const broker = await startBroker({ port: 0 });
    brokers.push(broker);
    const s = createConnection({ host: '127.0.0.1', port: broker.port });
    const gone = new Promise<void>((resolve) => s.once('close', () => resolve()));
    s.on('error', () => {});
    s.write(Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0x7f]));
    await gone;
  });
});
