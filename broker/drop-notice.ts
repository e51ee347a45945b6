// MQTT 3.1.1 has no negative acknowledgement: a command the broker cannot queue for an offline agent
// (broker/queue-bound.ts) was already PUBACKed to its sender [MQTT-4.3.2], so without a word it
// would simply vanish. The broker says so where controllers already listen for refusals: a `dropped`
// notice on the agent's errors topic, with the job id when one can be read [cp-queue-1].
import { decodeCommand, isHostName, parseTopic, PROTOCOL_VERSION, topics, type AgentNotice } from '../protocol/index.js';

interface DroppedPacket {
  topic?: unknown;
  payload?: unknown;
}

/** The notice for a message dropped for `clientId`, or undefined when it was not a command for an agent. */
export function dropNotice(clientId: string, packet: unknown, maxQueued: number, now = Date.now()): { topic: string; notice: AgentNotice } | undefined {
  const { topic, payload } = packet as DroppedPacket;
  if (typeof topic !== 'string' || !isHostName(clientId)) return undefined;
  const kind = parseTopic(topic)?.kind;
  if (kind !== 'cmd' && kind !== 'fleetCmd') return undefined;
  const body = Buffer.isBuffer(payload) ? payload : Buffer.from(typeof payload === 'string' ? payload : '');
  const decoded = decodeCommand(body);
  const job = decoded.ok ? decoded.value.id : decoded.id;
  const notice: AgentNotice = {
    v: PROTOCOL_VERSION,
    host: clientId,
    ts: now,
    type: 'dropped',
    message: `the broker's queue for offline agent ${clientId} is full (${maxQueued} messages): this command was dropped and will never run`,
    ...(job ? { job } : {}),
    topic,
    excerpt: body.subarray(0, 200).toString('utf8'),
  };
  return { topic: topics.errors(clientId), notice };
}
