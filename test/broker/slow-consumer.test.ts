// One subscriber that stops reading must not slow anyone else down (broker/slow-consumer.ts): a raw
// client subscribes to conplyent/# at QoS 1 and pauses its socket while an agent streams 100 MB; both
// agents keep answering pings and a reading controller still gets the whole stream. Same on Mosquitto
// (max_queued_bytes in the shipped config), which never blocks other clients.
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as tcpConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqttPacket from 'mqtt-packet';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent, type Agent } from '../../agent/index.js';
import { brokerKinds, startBrokerKind, type TestBroker } from '../helpers/brokers.js';
import { connect } from './clients.js';

const STREAM_BYTES = 100 * 1024 * 1024;
/** Generous: a ping answered later than this counts as "frozen" (the attack measured 0 of 2 in 8 s). */
const PING_BOUND_MS = 5_000;
const STREAM_BOUND_MS = 150_000;

/** A client that subscribes to everything and then never reads again (keepalive 0: never pinged out). */
function stalledSubscriber(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = tcpConnect({ host: '127.0.0.1', port }, () => {
      s.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'stalled-dashboard', clean: true, keepalive: 0 }));
      s.write(mqttPacket.generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'conplyent/#', qos: 1 }] }));
      // Let CONNACK and SUBACK arrive, then stop reading for good.
      setTimeout(() => {
        s.pause();
        resolve(s);
      }, 300);
    });
    s.on('error', () => {});
    s.once('error', reject);
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

describe.each(brokerKinds())('a subscriber that stops reading (%s)', (kind) => {
  let broker: TestBroker;
  let dir: string;
  const agents: Agent[] = [];
  let ctl: MqttClient;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cp-slow-'));
    broker = await startBrokerKind(kind);
    for (const name of ['busy', 'idle']) {
      const a = createAgent({ broker: broker.url, name, stateDir: join(dir, name) });
      await a.start();
      agents.push(a);
    }
    ctl = await connect(broker.url, { clientId: 'reading-controller' });
    await ctl.subscribeAsync('conplyent/#', { qos: 1 });
  });
  afterAll(async () => {
    await ctl?.endAsync();
    for (const a of agents) await a.stop();
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('slows neither the publisher nor other agents, and the reading controller gets the whole stream', async () => {
    const stalled = await stalledSubscriber(broker.port);
    const terminal = new Map<string, (ev: any) => void>();
    let streamed = 0;
    ctl.on('message', (topic, payload) => {
      if (!topic.includes('/job/')) return;
      const ev = JSON.parse(payload.toString());
      if (ev.job === 'big' && ev.type === 'output') streamed += Buffer.byteLength(ev.data, ev.enc === 'base64' ? 'base64' : 'utf8');
      if (ev.type === 'result' || ev.type === 'error') terminal.get(`${ev.host}/${ev.job}`)?.(ev);
    });
    const awaitTerminal = (host: string, job: string, boundMs: number) =>
      new Promise<any>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no answer from ${host} to ${job} within ${boundMs} ms`)), boundMs);
        terminal.set(`${host}/${job}`, (ev) => (clearTimeout(t), terminal.delete(`${host}/${job}`), resolve(ev)));
      });

    const big = awaitTerminal('busy', 'big', STREAM_BOUND_MS);
    ctl.publish('conplyent/busy/cmd', JSON.stringify({ id: 'big', cmd: 'exec', args: ['sh', '-c', `yes | head -c ${STREAM_BYTES}`] }), { qos: 1 });

    const rtts: Record<string, number[]> = { busy: [], idle: [] };
    let n = 0;
    let done = false;
    const finished = big.finally(() => (done = true));
    // Ping both agents while the stream runs (at least 10 rounds, however fast the stream is).
    while (!done || n < 10) {
      for (const host of ['busy', 'idle']) {
        const id = `ping-${host}-${n}`;
        const t0 = performance.now();
        const answer = awaitTerminal(host, id, PING_BOUND_MS);
        ctl.publish(`conplyent/${host}/cmd`, JSON.stringify({ id, cmd: 'ping' }), { qos: 1 });
        expect((await answer).type).toBe('result');
        rtts[host].push(performance.now() - t0);
      }
      n++;
      await new Promise((r) => setTimeout(r, 100));
    }
    const result = await finished;
    console.log(
      `[${kind}] ${n} ping rounds during a ${STREAM_BYTES / 1048576} MB stream with a stalled subscriber: ` +
        `median busy ${median(rtts.busy).toFixed(1)} ms, idle ${median(rtts.idle).toFixed(1)} ms; ` +
        `stalled socket ${stalled.destroyed ? 'closed' : 'still open'}`,
    );
    expect(result.type).toBe('result');
    expect(result.code).toBe(0);
    expect(streamed).toBe(STREAM_BYTES);
    stalled.destroy();
  }, STREAM_BOUND_MS + 30_000);
});
