// Command payloads on the wire: JSON envelopes, text lines or command frames, sent QoS 1 and never
// retained to each host's topic or once to the fleet topic. Sizes are checked before anything leaves.
import type { MqttClient } from 'mqtt';
import { MAX_COMMAND_BYTES, describeData, encodeCommandFrame, parseTextCommand, topics, type CommandInput } from '../protocol/index.js';
import { ControllerError } from './errors.js';
import type { Route } from './targets.js';
import type { CommandSigner } from './trust/signer.js';
import { HeldPublish, combinedWithdrawal, type Withdrawal } from './withdraw.js';

/** One publish: a payload and the topic it goes to (a signed payload is valid on that topic only). */
export interface Outgoing {
  topic: string;
  /** JSON or text; a command frame is bytes already. */
  body: string | Buffer;
}

/** The topics a route publishes on: each host's own, or the fleet topic once. */
export function routeTopics(route: Route): string[] {
  return route.kind === 'fleet' ? [topics.fleetCmd()] : route.hosts.map((h) => topics.cmd(h));
}

/** The envelope as sent: `sentAt` stamped now, and `target` for the fleet topic [cp-fleet-1]. */
function stamped(envelope: CommandInput, route: Route): CommandInput {
  return { ...envelope, sentAt: Date.now(), ...(route.kind === 'fleet' ? { target: route.target } : {}) };
}

/**
 * The JSON envelope with `sentAt` stamped now and `target` for the fleet topic [cp-fleet-1]. With a
 * signer, each topic gets its own signature [cp-sig-3]; without, one body serves every topic.
 */
export function jsonPayload(envelope: CommandInput, route: Route, signer?: CommandSigner): Outgoing[] {
  const env = stamped(envelope, route);
  if (signer) return routeTopics(route).map((topic) => ({ topic, body: JSON.stringify(signer.sign(env, topic)) }));
  const body = JSON.stringify(env);
  return routeTopics(route).map((topic) => ({ topic, body }));
}

/**
 * A command frame [cp-cmdframe-2]: the JSON payload's envelope, with `data` describing the bytes,
 * as the header, then the bytes. The signature covers the header, and through its `data` the
 * bytes [cp-cmdframe-3]; with a signer each topic gets its own frame, without one frame serves all.
 */
export function framePayload(envelope: CommandInput, data: Uint8Array, route: Route, signer?: CommandSigner): Outgoing[] {
  const env = stamped({ ...envelope, data: describeData(data) }, route);
  if (signer) return routeTopics(route).map((topic) => ({ topic, body: encodeCommandFrame(signer.sign(env, topic), data) }));
  const body = encodeCommandFrame(env, data);
  return routeTopics(route).map((topic) => ({ topic, body }));
}

/**
 * A text command line with our envelope words in front: the first word that is not key=value is
 * the command name [cp-text-3], so prefixed words can never be taken for arguments.
 */
export function textPayload(line: string, route: Route, envelope: Record<string, string | number | boolean | undefined>): Outgoing[] {
  const words = Object.entries({ ...envelope, sentAt: Date.now() })
    // A value that would need quoting (a client id with spaces) is left out rather than mangled.
    .filter(([, v]) => v !== undefined && /^[^\s"'\\]+$/.test(String(v)))
    // A string the parser would read as a number or literal (id=1001, from=null) is quoted so it
    // stays a string [cp-text-6]; unquoted it would make the agent refuse the envelope.
    .map(([k, v]) => (typeof v === 'string' && (parseTextCommand(`${k}=${v} x`) as Record<string, unknown>)[k] !== v ? `${k}="${v}"` : `${k}=${v}`));
  if (route.kind === 'fleet') words.push(`target=${route.target}`);
  const body = `${words.join(' ')} ${line}`;
  return routeTopics(route).map((topic) => ({ topic, body }));
}

/** A payload as the bytes that go out: encoded once, and that encoding is what is measured. */
export interface Sized {
  topic: string;
  bytes: Buffer;
}

/** Over the agent's limit a command would be refused anyway; over the broker's it wedges the connection (mqtt.js #768). */
export function checkSize(out: Outgoing[]): Sized[] {
  let last: { body: string | Buffer; bytes: Buffer } | undefined;
  return out.map(({ topic, body }) => {
    // One body usually serves every host's topic; a string payload would be measured and encoded
    // again by mqtt-packet on every publish (a 350 kB `put` chunk).
    if (last?.body !== body) last = { body, bytes: typeof body === 'string' ? Buffer.from(body) : body };
    if (last.bytes.length > MAX_COMMAND_BYTES) throw new ControllerError('BAD_OPTION', `command is ${last.bytes.length} bytes; the limit is ${MAX_COMMAND_BYTES}`);
    return { topic, bytes: last.bytes };
  });
}

/**
 * Commands are QoS 1 and never retained: the broker hands a retained message to every new
 * subscription [MQTT-3.3.1-6], so a retained command would run again each time an agent reconnects.
 */
export async function publishCommand(client: MqttClient, out: readonly Sized[]): Promise<void> {
  await new CommandOutbox(client, out).send();
}

/**
 * One command's publishes, which can be withdrawn when the controller gives up on sending them: a
 * command reported as not sent must never be delivered later by mqtt.js's offline queue or resend.
 * @example
 * const outbox = new CommandOutbox(client, checkSize(jsonPayload(envelope, route)));
 * const sent = outbox.send();
 * // later, if `sent` has not resolved in time:
 * const verdict = outbox.withdraw(); // 'never-sent' | 'maybe-sent' | 'acknowledged'
 */
export class CommandOutbox {
  private held: HeldPublish[] = [];
  private withdrawn = false;

  constructor(private readonly client: MqttClient, private readonly out: readonly Sized[]) {}

  /** Publishes every payload (once); resolves when the broker acknowledged all of them. */
  send(): Promise<void> {
    if (this.withdrawn) return Promise.reject(new ControllerError('CLOSED', 'the command was withdrawn before it was sent'));
    this.held = this.out.map((o) => new HeldPublish(this.client, o.topic, o.bytes));
    return Promise.all(this.held.map((h) => h.done)).then(() => undefined);
  }

  /** Takes back what mqtt.js still holds; the least reassuring verdict of all the publishes. */
  withdraw(): Withdrawal {
    this.withdrawn = true;
    return combinedWithdrawal(this.held.map((h) => h.withdraw()));
  }
}
