// Two embedded broker processes sharing one Redis (`cluster: redis://…`, broker/cluster.ts) act as
// one broker: messages, retained presence, persistent sessions and Wills cross between them.
import mqtt, { type MqttClient } from 'mqtt';
import { connect, nextOn, clientPool } from './clients.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker } from '../../broker/index.js';
import { spawnBroker, type BrokerProc } from '../helpers/broker-proc.js';
import { freePort } from '../helpers/brokers.js';
import { redisAvailable, startRedis, type TestRedis } from '../helpers/redis.js';

const WAIT_MS = 10_000;

let n = 0;
const client = (url: string, opts: mqtt.IClientOptions = {}): Promise<MqttClient> =>
  connect(url, { clientId: `cr-${++n}-${process.pid}`, connectTimeout: WAIT_MS, ...opts });
const next = (c: MqttClient, topic: string, ms = WAIT_MS) => nextOn(c, topic, ms);

/** Rejects after `ms` instead of waiting forever for a SUBACK that never comes. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

describe.skipIf(!redisAvailable())('two embedded brokers sharing one Redis', () => {
  let redis: TestRedis;
  let a: BrokerProc;
  let b: BrokerProc;
  const { track, add, endAll } = clientPool();

  beforeAll(async () => {
    redis = await startRedis();
    // A short heartbeat so a killed broker is declared dead (3 beats) within a test's patience.
    a = await spawnBroker({ cluster: redis.url, clusterHeartbeatMs: 300 });
    b = await spawnBroker({ cluster: redis.url, clusterHeartbeatMs: 300 });
  }, 30_000);
  afterAll(async () => {
    endAll();
    await a?.kill('SIGTERM');
    await b?.kill('SIGTERM');
    await redis?.stop();
  });

  it('a QoS 1 message from a client on A reaches a client on B, and back', async () => {
    const onA = await track(client(a.url));
    const onB = await track(client(b.url));
    await onA.subscribeAsync('conplyent/r-1/job/j1', { qos: 1 });
    await onB.subscribeAsync('conplyent/r-1/cmd', { qos: 1 });
    const atB = next(onB, 'conplyent/r-1/cmd');
    await onA.publishAsync('conplyent/r-1/cmd', 'go', { qos: 1 });
    expect(await atB).toEqual({ payload: 'go', retain: false });
    const atA = next(onA, 'conplyent/r-1/job/j1');
    await onB.publishAsync('conplyent/r-1/job/j1', 'done', { qos: 1 });
    expect(await atA).toEqual({ payload: 'done', retain: false });
  });

  it('a retained status published on A is seen retained by new subscribers on both brokers', async () => {
    const pub = await track(client(a.url));
    await pub.publishAsync('conplyent/r-2/status', 'online', { qos: 1, retain: true });
    for (const url of [a.url, b.url]) {
      const c = await track(client(url));
      const got = next(c, 'conplyent/r-2/status');
      await c.subscribeAsync('conplyent/+/status', { qos: 1 });
      expect(await got).toEqual({ payload: 'online', retain: true });
    }
  });

  it('a persistent session SUBSCRIBE with several topics gets its SUBACK', async () => {
    const c = await track(client(a.url, { clientId: 'multi-sub', clean: false }));
    const granted = await within(c.subscribeAsync(['a/b', 'c/d', 'e/f'], { qos: 1 }), WAIT_MS, 'SUBSCRIBE of 3 topics');
    expect(granted.map((g) => g.qos)).toEqual([1, 1, 1]);
  });

  it('a QoS 1 message queued for an offline session on A is delivered when it reconnects on B', async () => {
    const first = await client(a.url, { clientId: 'ctl-away', clean: false });
    await first.subscribeAsync('conplyent/r-3/job/+', { qos: 1 });
    await first.endAsync();
    const pub = await track(client(a.url));
    await pub.publishAsync('conplyent/r-3/job/j9', 'result', { qos: 1 });
    const back = mqtt.connect(b.url, { clientId: 'ctl-away', clean: false, reconnectPeriod: 0, connectTimeout: WAIT_MS });
    add(back);
    const got = next(back, 'conplyent/r-3/job/j9');
    expect(await got).toEqual({ payload: 'result', retain: false });
  });

  // Last: it kills broker A.
  it('when broker A is killed, its client\'s Will is published by B', async () => {
    const watcher = await track(client(b.url));
    await watcher.subscribeAsync('conplyent/r-4/status', { qos: 1 });
    const doomed = await client(a.url, {
      clientId: 'r-4',
      will: { topic: 'conplyent/r-4/status', payload: Buffer.from('offline'), qos: 1, retain: true },
    });
    const got = next(watcher, 'conplyent/r-4/status', 15_000);
    await a.kill('SIGKILL');
    expect((await got)?.payload).toBe('offline');
    doomed.end(true);
  }, 30_000);
});

describe('the cluster option', () => {
  it('refuses a URL that is not redis:// or rediss://, naming the option', async () => {
    await expect(startBroker({ port: 0, cluster: 'http://127.0.0.1:6379' })).rejects.toThrow(/^cluster must be a redis:\/\/ or rediss:\/\/ URL, got "http:/);
  });

  it('refuses cluster together with dataDir: Redis holds the state', async () => {
    await expect(startBroker({ port: 0, cluster: 'redis://127.0.0.1:6379', dataDir: '/tmp/x' })).rejects.toThrow(/cluster and dataDir exclude each other/);
  });

  it('fails at start, with the URL and the cause, when Redis cannot be reached', async () => {
    const port = await freePort();
    await expect(startBroker({ port: 0, cluster: `redis://user:secret@127.0.0.1:${port}` })).rejects.toThrow(
      new RegExp(`^cannot reach Redis for --cluster at redis://\\*\\*\\*@127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`),
    );
  }, 15_000);
});
