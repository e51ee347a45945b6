// Command payloads on the wire: JSON envelopes or text lines, sent QoS 1 and never retained to each
// host's topic or once to the fleet topic. Sizes are checked before anything leaves.
import type { MqttClient } from 'mqtt';
import { MAX_COMMAND_BYTES, parseTextCommand, topics, type CommandInput } from '../protocol/index.js';
import { ControllerError } from './errors.js';
import type { Route } from './targets.js';

/** The JSON envelope with `sentAt` stamped now and `target` for the fleet topic [cp-fleet-1]. */
export function jsonPayload(envelope: CommandInput, route: Route): string {
  return JSON.stringify({ ...envelope, sentAt: Date.now(), ...(route.kind === 'fleet' ? { target: route.target } : {}) });
}

/**
 * A text command line with our envelope words in front: the first word that is not key=value is
 * the command name [cp-text-3], so prefixed words can never be taken for arguments.
 */
export function textPayload(line: string, route: Route, envelope: Record<string, string | number | undefined>): string {
  const words = Object.entries({ ...envelope, sentAt: Date.now() })
    // A value that would need quoting (a client id with spaces) is left out rather than mangled.
    .filter(([, v]) => v !== undefined && /^[^\s"'\\]+$/.test(String(v)))
    // A string the parser would read as a number or literal (id=1001, from=null) is quoted so it
    // stays a string [cp-text-6]; unquoted it would make the agent refuse the envelope.
    .map(([k, v]) => (typeof v === 'string' && (parseTextCommand(`${k}=${v} x`) as Record<string, unknown>)[k] !== v ? `${k}="${v}"` : `${k}=${v}`));
  if (route.kind === 'fleet') words.push(`target=${route.target}`);
  return `${words.join(' ')} ${line}`;
}

/** Over the agent's limit a command would be refused anyway; over the broker's it wedges the connection (mqtt.js #768). */
export function checkSize(body: string): string {
  const size = Buffer.byteLength(body);
  if (size > MAX_COMMAND_BYTES) throw new ControllerError('BAD_OPTION', `command is ${size} bytes; the limit is ${MAX_COMMAND_BYTES}`);
  return body;
}

/**
 * Commands are QoS 1 and never retained: the broker hands a retained message to every new
 * subscription [MQTT-3.3.1-6], so a retained command would run again each time an agent reconnects.
 */
export async function publishCommand(client: MqttClient, route: Route, body: string): Promise<void> {
  const out = route.kind === 'fleet' ? [topics.fleetCmd()] : route.hosts.map((h) => topics.cmd(h));
  await Promise.all(out.map((t) => client.publishAsync(t, body, { qos: 1, retain: false })));
}
