// One template for a NATS node's config: deploy/nats/ ships its output for production paths, and the
// cluster launcher (test/helpers/nats-cluster.ts) writes per-test files from it; a test checks that
// the two never drift. The roles mirror broker/acl.ts and deploy/acl as far as NATS can express them
// (deploy/nats/README.md lists what it cannot).

export type NatsRole = 'agent' | 'controller' | 'observer';
export interface NatsUser {
  username: string;
  /** The password, or `$VAR` to have nats-server read it from the environment variable VAR. */
  password: string;
  role: NatsRole;
}

export interface NatsNodeParams {
  /** server_name, unique in the cluster (JetStream's Raft groups use it). */
  name: string;
  /** Name of the cluster, the same on every node. */
  cluster: string;
  /** Address to bind all listeners to; omitted in production (all interfaces). */
  host?: string;
  /** NATS client port (needed even when only MQTT clients connect: JetStream and monitoring use it). */
  clientPort: number;
  mqttPort: number;
  /** HTTP monitoring port (`/healthz` says when JetStream is ready); omitted: no monitoring listener. */
  httpPort?: number;
  /** Port of this node's route listener. */
  routePort: number;
  /**
   * `host:port` of every node's route listener (this one included is fine: NATS ignores itself), or
   * `$VAR` naming an environment variable that holds a whole `nats-route://user:pw@host:port` URL.
   */
  routes: string[];
  /** JetStream store directory; MQTT sessions, retained messages and QoS 1 queues live there. */
  storeDir: string;
  /** Absent: anonymous MQTT clients allowed (tests without auth only). */
  users?: readonly NatsUser[];
  /** Password of the `route` user that nodes use to join each other (`$VAR`: from the environment). */
  routePassword?: string;
}

/** MQTT topic → NATS subject: `/` becomes `.` (docs.nats.io, "MQTT Topics and NATS Subjects"). */
export function subjectOf(topic: string): string {
  return topic.split('/').join('.').replace('#', '>').replace(/\+/g, '*');
}

// QoS 1 subscriptions are JetStream consumers delivering to `$MQTT.sub.<nuid>`: the user needs
// subscribe permission there on nats-server < 2.12 (implicit since nats-io/nats-server#7637).
const MQTT_DELIVERY = '$MQTT.sub.>';

function quote(s: string): string {
  return JSON.stringify(s);
}

/** A secret: `$NAME` stays a variable reference (NATS reads it from the environment), else quoted. */
function secret(s: string): string {
  return /^\$[A-Z_][A-Z0-9_]*$/.test(s) ? s : quote(s);
}

function list(items: string[]): string {
  return `[${items.map(quote).join(', ')}]`;
}

/**
 * Permissions of one user. NATS config users have no `%u` pattern (templates exist only for JWT
 * users), so an agent's own topics are spelled out per user.
 */
export function natsPermissions(u: { username: string; role: NatsRole }): string {
  const s = (t: string) => subjectOf(t);
  switch (u.role) {
    case 'agent': {
      const h = u.username;
      const pub = [s(`conplyent/${h}/status`), s(`conplyent/${h}/job/+`), s(`conplyent/${h}/errors`)];
      const sub = [s(`conplyent/${h}/cmd`), s('conplyent/_all/cmd'), s(`conplyent/${h}/status`), MQTT_DELIVERY];
      return `{ publish: ${list(pub)}, subscribe: ${list(sub)} }`;
    }
    case 'controller':
      // `conplyent/#` becomes two NATS subscriptions, `conplyent.>` and `conplyent` (docs.nats.io, MQTT Wildcards).
      return `{ publish: ${list([s('conplyent/+/cmd')])}, subscribe: ${list(['conplyent', 'conplyent.>', MQTT_DELIVERY])} }`;
    default:
      return `{ publish: { deny: ">" }, subscribe: ${list(['conplyent', 'conplyent.>', MQTT_DELIVERY])} }`;
  }
}

/** The nats-server.conf text of one node. */
export function natsNodeConf(p: NatsNodeParams): string {
  const at = (port: number) => (p.host ? `${p.host}:${port}` : `0.0.0.0:${port}`);
  // Routes dial out with the route password. A `$VAR` is not expanded inside a string, so with a
  // password from the environment the route URLs come from the environment too (`$NATS_ROUTE_1`).
  const routeAuth = p.routePassword ? `route:${p.routePassword}@` : '';
  const route = (r: string) => (r.startsWith('$') ? r : quote(`nats-route://${routeAuth}${r}`));
  const lines = [
    '# Generated from test/helpers/nats-conf.ts (natsNodeConf) — a conplyent node of a NATS cluster (nats-server 2.9+).',
    `server_name: ${quote(p.name)}`,
    `listen: ${quote(at(p.clientPort))}`,
    ...(p.httpPort !== undefined ? [`http: ${quote(at(p.httpPort))}`] : []),
    '',
    '# MQTT needs JetStream: sessions, retained messages and QoS 1 queues are streams.',
    'jetstream {',
    `  store_dir: ${quote(p.storeDir)}`,
    '}',
    '',
    'mqtt {',
    `  listen: ${quote(at(p.mqttPort))}`,
    '  # Same bound as deploy/mosquitto.conf max_queued_messages: unacknowledged QoS 1 per subscription.',
    '  max_ack_pending: 10000',
    '  # A QoS 1 message a dropped connection never acknowledged (a command in flight when an agent',
    '  # lost its link) is sent again after ack_wait, not when the session resumes [MQTT-4.4.0-1],',
    '  # before nats-io/nats-server#8360 and after any failover: 30 s by default. A client slower than',
    '  # this to acknowledge gets a duplicate, which agents drop by id and controllers by seq.',
    '  ack_wait: "5s"',
    '}',
    '',
    'cluster {',
    `  name: ${quote(p.cluster)}`,
    `  listen: ${quote(at(p.routePort))}`,
  ];
  if (p.routePassword) lines.push('  authorization { user: "route", password: ' + secret(p.routePassword) + ' }');
  lines.push(`  routes: [${p.routes.map(route).join(', ')}]`, '}');
  if (p.users) {
    lines.push(
      '',
      '# One user per agent (user name == host name), controllers, observers. MQTT-only, so a stolen agent',
      '# password cannot open a plain NATS connection (which would bypass the MQTT topic mapping).',
      'authorization {',
      '  users: [',
    );
    for (const u of p.users) {
      lines.push(`    { user: ${quote(u.username)}, password: ${secret(u.password)}, allowed_connection_types: ["MQTT"], permissions: ${natsPermissions(u)} }`);
    }
    lines.push('  ]', '}');
  }
  return lines.join('\n') + '\n';
}
