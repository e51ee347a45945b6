// Scale: what one idle MQTT connection costs each broker (RSS growth over N raw connections) and what
// a QoS 1 SUBSCRIBE costs (p50 of sequential SUBSCRIBEs to new topics, QoS 0 as the baseline), on
// aedes (the embedded broker), Mosquitto and a NATS node with JetStream. Feeds docs/scale.md.
import { createConnection, type Socket } from 'node:net';
import { banner } from '../lib/report.js';
import { mosquittoAvailable, startBench } from '../lib/brokers.js';
import { rawClient } from '../lib/clients.js';
import { natsBin, startNatsNode } from '../lib/nats.js';
import { p50, sleep, within } from '../lib/stats.js';
import type { Ctx } from './context.js';

const KiB = 1024;
const BATCH = 100;

interface Target {
  name: string;
  url: string;
  rss(): Promise<number>;
  stop(): Promise<void>;
}

/** An MQTT 3.1.1 CONNECT (clean session, keepalive 600 s) built by hand: no client library per socket. */
function connectPacket(clientId: string): Buffer {
  const id = Buffer.from(clientId);
  const variable = Buffer.from([0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x02, 600 >> 8, 600 & 0xff]);
  const payload = Buffer.concat([Buffer.from([id.length >> 8, id.length & 0xff]), id]);
  const rest = variable.length + payload.length; // < 128: one length byte
  return Buffer.concat([Buffer.from([0x10, rest]), variable, payload]);
}

/** One raw connection that waits for its CONNACK (0x20 0x02 0x00 0x00) and then stays idle. */
function rawConnect(port: number, clientId: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.setTimeout(10_000, () => s.destroy(new Error('no CONNACK in 10 s')));
    s.once('error', reject);
    s.once('connect', () => s.write(connectPacket(clientId)));
    s.once('data', (d) => {
      s.setTimeout(0);
      if (d[0] === 0x20 && d[3] === 0) resolve(s);
      else reject(new Error(`CONNACK refused: ${d.toString('hex')}`));
    });
  });
}

async function perConnection(ctx: Ctx, t: Target, n: number): Promise<void> {
  const port = Number(new URL(t.url).port);
  const before = await t.rss();
  const socks: Socket[] = [];
  try {
    for (let i = 0; i < n; i += BATCH) {
      const batch = Array.from({ length: Math.min(BATCH, n - i) }, (_, k) => rawConnect(port, `scale-${i + k}`));
      socks.push(...(await within(Promise.all(batch), 30_000, `${t.name}: connections ${i}..${i + BATCH}`)));
    }
    await sleep(1_000);
    const after = await t.rss();
    ctx.report.add('scale', { case: `${t.name} RSS per idle connection (N=${n})`, figure: (after - before) / n / KiB, unit: 'KiB', runs: 1, note: `broker RSS ${(before / KiB / KiB).toFixed(0)} → ${(after / KiB / KiB).toFixed(0)} MiB` });
  } finally {
    for (const s of socks) s.destroy();
  }
}

async function subscribeCost(ctx: Ctx, t: Target, n: number): Promise<void> {
  const c = await rawClient(t.url);
  try {
    const time = async (qos: 0 | 1, prefix: string) => {
      const samples: number[] = [];
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        await within(c.subscribeAsync(`conplyent/${prefix}-${i}/job/+`, { qos }), 10_000, `${t.name} SUBSCRIBE`);
        samples.push(performance.now() - t0);
      }
      return p50(samples);
    };
    const qos0 = await time(0, 'q0');
    const qos1 = await time(1, 'q1');
    ctx.report.add('scale', { case: `${t.name} QoS 1 SUBSCRIBE p50`, figure: qos1, unit: 'ms', baselineName: 'QoS 0 SUBSCRIBE', baseline: qos0, runs: n });
  } finally {
    await c.endAsync(true);
  }
}

export async function scale(ctx: Ctx): Promise<void> {
  banner('scale');
  const n = ctx.quick ? 200 : 3000;
  const subs = ctx.quick ? 5 : 20;
  const targets: (() => Promise<Target>)[] = [async () => ({ name: 'aedes', ...(await startBench('aedes')) })];
  if (mosquittoAvailable()) targets.push(async () => ({ name: 'mosquitto', ...(await startBench('mosquitto')) }));
  else ctx.report.skip('scale mosquitto', 'mosquitto not installed');
  if (natsBin()) targets.push(async () => ({ name: 'nats (1 node, JetStream)', ...(await startNatsNode()) }));
  else ctx.report.skip('scale nats', 'nats-server not installed');
  for (const start of targets) {
    const t = await start();
    try {
      await perConnection(ctx, t, n);
      await subscribeCost(ctx, t, subs);
    } finally {
      await t.stop();
    }
  }
}
