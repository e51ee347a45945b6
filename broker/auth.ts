// Authentication and authorization hooks for aedes: the users file decides who connects and in which
// role; broker/acl.ts decides what each role may touch.
import type { Aedes, AedesOptions, AuthenticateError, Client, PublishPacket, Subscription } from 'aedes';
import type { Logger } from 'pino';
import { canPublish, canSetWill, canSubscribe, retainable, type Principal } from './acl.js';
import type { LoginThrottle } from './login-throttle.js';
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

/** What the hooks need to know about a connection besides its packets. */
export interface AuthContext {
  throttle: LoginThrottle;
  /** The remote address of a client's connection. */
  addressOf(client: Client): string | undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The client id a controller or observer gets: its own namespace `<user>/<id>` (kept as is when it
 * already is `<user>` or starts with `<user>/`). User names cannot hold `/`, so no user can reach
 * another's ids, and agents' ids (their bare names) stay theirs [cp-conn-6].
 */
export function namespacedClientId(user: string, id: string): string {
  return id === user || id.startsWith(`${user}/`) ? id : `${user}/${id}`;
}

/**
 * Builds the hooks for a users file. The principal of each client is kept in a WeakMap, never on the
 * client object, so nothing a client sends can set it.
 */
export function authHooks(usersFile: string, ctx: AuthContext, log?: Logger): Hooks & { principalOf(client: Client | null): Principal | undefined } {
  const users = cachedUsers(usersFile);
  const principals = new WeakMap<Client, Principal>();

  const authenticate: Hooks['authenticate'] = (client, username, password, done) => {
    (async () => {
      const all = await users();
      const address = ctx.addressOf(client);
      const user = typeof username === 'string' ? username : '';
      const wait = ctx.throttle.delayFor(user, address);
      if (wait > 0) await sleep(wait);
      const role = user ? await verifyIn(all, user, password) : undefined;
      if (!role) {
        const failures = ctx.throttle.failed(user, address);
        log?.warn({ user, ip: address, failures: failures.user, ipFailures: failures.address, delayedMs: wait }, 'login failed');
        return done(refuse(BAD_USER_OR_PASSWORD, 'bad user name or password'), false);
      }
      ctx.throttle.succeeded(address);
      const p: Principal = { name: user, role };
      // Client-id takeover defence: a second connection with an id disconnects the first [MQTT-3.1.4-2],
      // and a clean one also wipes the first's session. An agent's id must be its own name; everyone
      // else is moved into their own namespace, so nobody can reach another user's id [cp-conn-6].
      if (role === 'agent' && client.id !== user) {
        return done(refuse(IDENTIFIER_REJECTED, `agent "${user}" must connect with client id "${user}"`), false);
      }
      if (role !== 'agent') client.id = namespacedClientId(user, client.id);
      // The Will is published later by the broker itself; check it now (brokers that skipped it
      // let a client publish where it may not: aedes #211, EMQX #1230) and again when it is
      // published (authorizePublish).
      const will = (client as unknown as { _will?: { topic: string } | null })._will;
      if (will && !canSetWill(p, will.topic)) {
        log?.warn({ client: client.id, user, topic: will.topic }, 'will topic refused');
        return done(refuse(NOT_AUTHORIZED, `will topic "${will.topic}" not allowed for ${role} "${user}"`), false);
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
