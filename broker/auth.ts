// Authentication and authorization hooks for aedes: the users file decides who connects and in which
// role; broker/acl.ts decides what each role may touch.
import type { Aedes, AedesOptions, AuthenticateError, Client, PublishPacket, Subscription } from 'aedes';
import type { Logger } from 'pino';
import { canPublish, canSetWill, canSubscribe, retainable, type Principal } from './acl.js';
import { cachedUsers, verifyIn } from './users-file.js';

/** Where denied publishes go: a `$` topic, which no role may subscribe to. */
export const DENIED_SINK = '$SYS/conplyent/denied';

type Hooks = Pick<AedesOptions, 'authenticate' | 'authorizePublish' | 'authorizeSubscribe'>;

/** CONNACK return codes of MQTT 3.1.1 [MQTT-3.2.2-3]. */
const IDENTIFIER_REJECTED = 2;
const BAD_USER_OR_PASSWORD = 4;
const NOT_AUTHORIZED = 5;

function refuse(returnCode: number, message: string): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

/**
 * Builds the hooks for a users file. The principal of each client is kept in a WeakMap, never on the
 * client object, so nothing a client sends can set it.
 */
export function authHooks(usersFile: string, log?: Logger): Hooks & { principalOf(client: Client | null): Principal | undefined } {
  const users = cachedUsers(usersFile);
  const principals = new WeakMap<Client, Principal>();

  const authenticate: Hooks['authenticate'] = (client, username, password, done) => {
    (async () => {
      const all = await users();
      const role = typeof username === 'string' ? await verifyIn(all, username, password) : undefined;
      if (!role || !username) return done(refuse(BAD_USER_OR_PASSWORD, 'bad user name or password'), false);
      const p: Principal = { name: username, role };
      // Client-id takeover defence: a second connection with an id disconnects the first [MQTT-3.1.4-2],
      // so an agent's id must be its own name, and nobody else may use an agent's name as id.
      if (role === 'agent' && client.id !== username) {
        return done(refuse(IDENTIFIER_REJECTED, `agent "${username}" must connect with client id "${username}"`), false);
      }
      if (role !== 'agent' && all.get(client.id)?.role === 'agent') {
        return done(refuse(IDENTIFIER_REJECTED, `client id "${client.id}" belongs to an agent`), false);
      }
      // The Will is published later by the broker itself; check it now (brokers
      // that skipped it let a client publish where it may not: aedes #211, EMQX #1230) and again when it is published (authorizePublish).
      const will = (client as unknown as { _will?: { topic: string } | null })._will;
      if (will && !canSetWill(p, will.topic)) {
        log?.warn({ client: client.id, user: username, topic: will.topic }, 'will topic refused');
        return done(refuse(NOT_AUTHORIZED, `will topic "${will.topic}" not allowed for ${role} "${username}"`), false);
      }
      principals.set(client, p);
      done(null, true);
    })().catch((err) => {
      log?.error({ err }, 'authentication failed with an error');
      done(refuse(NOT_AUTHORIZED, 'authentication unavailable'), false);
    });
  };

  const authorizePublish: Hooks['authorizePublish'] = (client, packet, done) => {
    (async () => {
      let p = client ? principals.get(client) : undefined;
      // A Will restored from persistence after a restart has no client: authorize it by the
      // agent it was stored for (aedes #767).
      if (!client) {
        const clientId = (packet as PublishPacket & { clientId?: string }).clientId;
        const entry = clientId ? (await users()).get(clientId) : undefined;
        if (clientId && entry?.role === 'agent') p = { name: clientId, role: 'agent' };
      }
      if (p && canPublish(p, packet.topic)) {
        // Only presence is retained [cp-mqtt-2]: a retained job event or notice would let one agent
        // fill the retained store without bound (one message per invented job id). Deliver it live only.
        if (packet.retain && !retainable(p, packet.topic)) packet.retain = false;
        return done(null);
      }
      // [MQTT-3.3.5-2]: acknowledge and drop, like Mosquitto. Closing the connection instead would
      // make a QoS 1 client resend the same message forever (mqtt.js #768, #1005).
      log?.warn({ client: client?.id, user: p?.name, topic: packet.topic }, 'publish denied and dropped');
      packet.topic = DENIED_SINK;
      packet.retain = false;
      done(null);
    })().catch(() => done(new Error('authorization unavailable')));
  };

  const authorizeSubscribe: Hooks['authorizeSubscribe'] = (client, sub: Subscription, done) => {
    const p = principals.get(client);
    if (p && canSubscribe(p, sub.topic)) return done(null, sub);
    log?.warn({ client: client.id, user: p?.name, topic: sub.topic }, 'subscription denied');
    // A null subscription is granted QoS 128 (failure) in the SUBACK [MQTT-3.9.3-2].
    done(null, null as unknown as Subscription);
  };

  return { authenticate, authorizePublish, authorizeSubscribe, principalOf: (c) => (c ? principals.get(c) : undefined) };
}

/** Without a users file: everyone may do everything except publish into `$SYS` (aedes #597). */
export function openHooks(): Hooks {
  return {
    authorizePublish: (_client, packet, done) => done(packet.topic.startsWith('$') ? new Error('$ topics are reserved') : null),
  };
}

export type { Aedes };
