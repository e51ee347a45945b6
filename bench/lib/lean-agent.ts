// Lean simulated agents for the largest fan-out the machine allows: one mqtt.js connection each that
// speaks just enough of topics.md to count as a host — a retained online status [cp-topic-4], the
// fleet and own command topics at QoS 1, and `accepted` then `result` for any command, as an agent
// answers `ping`. No state dir, journal, logger or zod: what is left is the connection and the
// broker's and controller's share of the work, which is what limits N on one machine.
import mqtt, { type MqttClient } from 'mqtt';
import { topics } from '../../protocol/topics.js';
import { PROTOCOL_VERSION } from '../../protocol/version.js';
import { pool } from './pool.js';

export async function startLeanAgents(url: string, names: readonly string[], concurrency: number): Promise<MqttClient[]> {
  const clients: MqttClient[] = [];
  const boot = Date.now();
  await pool(names, concurrency, async (host) => {
    const c = mqtt.connect(url, { clientId: host, protocolVersion: 4, keepalive: 600, reconnectPeriod: 1000, clean: true, connectTimeout: 60_000 });
    c.on('error', () => {});
    c.on('message', (_topic, payload) => {
      let id: unknown;
      try {
        id = (JSON.parse(payload.toString()) as { id?: unknown }).id;
      } catch {
        return;
      }
      if (typeof id !== 'string') return;
      const ts = Date.now();
      const base = { v: PROTOCOL_VERSION, host, job: id };
      c.publish(topics.job(host, id), JSON.stringify({ ...base, seq: 0, ts, type: 'accepted', cmd: 'ping', args: [], kind: 'foreground', boot }), { qos: 1 });
      c.publish(topics.job(host, id), JSON.stringify({ ...base, seq: 1, ts, type: 'result', code: 0, durationMs: 0, events: 0, value: { pong: true, host, ts } }), { qos: 1 });
    });
    await new Promise<void>((resolve, reject) => {
      c.once('connect', () => resolve());
      c.once('error', reject);
    });
    (c.stream as { setNoDelay?: (v: boolean) => void } | undefined)?.setNoDelay?.(true);
    // One topic per SUBSCRIBE, as the agent does (a persistent SUBSCRIBE of several lost its SUBACK on aedes + Redis).
    await c.subscribeAsync(topics.fleetCmd(), { qos: 1 });
    await c.subscribeAsync(topics.cmd(host), { qos: 1 });
    const now = Date.now();
    await c.publishAsync(topics.status(host), JSON.stringify({ v: PROTOCOL_VERSION, host, online: true, boot, conn: 1, since: now, startedAt: boot, labels: {}, commands: [] }), { qos: 1, retain: true });
    clients.push(c);
  });
  return clients;
}
