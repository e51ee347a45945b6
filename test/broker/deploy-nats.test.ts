// deploy/nats/node-*.conf are the output of the template the NATS cluster tests start nodes with
// (test/helpers/nats-conf.ts), so what the tests prove is what operators ship. UPDATE_DEPLOY=1
// rewrites them after a template change; nats-server -t checks that each one parses.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { natsAvailable, natsServerBin } from '../helpers/nats-cluster.js';
import { natsNodeConf, type NatsUser } from '../helpers/nats-conf.js';

const deploy = (name: string) => fileURLToPath(new URL(`../../deploy/nats/${name}`, import.meta.url));

/** Example users; passwords come from the environment (`$VAR`), never from the file. */
export const EXAMPLE_USERS: NatsUser[] = [
  { username: 'web-1', password: '$CP_PASSWORD_WEB_1', role: 'agent' },
  { username: 'web-2', password: '$CP_PASSWORD_WEB_2', role: 'agent' },
  { username: 'ctl@ops', password: '$CP_PASSWORD_CTL_OPS', role: 'controller' },
  { username: 'obs@dashboard', password: '$CP_PASSWORD_OBS_DASHBOARD', role: 'observer' },
];

/** Node i (1-based) with the ports of the nats container image and the data dir /data. */
export function productionConf(i: number): string {
  return natsNodeConf({
    name: `nats-${i}`,
    cluster: 'conplyent',
    clientPort: 4222,
    httpPort: 8222,
    mqttPort: 1883,
    routePort: 6222,
    routes: ['$NATS_ROUTE_1', '$NATS_ROUTE_2', '$NATS_ROUTE_3'],
    routePassword: '$NATS_ROUTE_PASSWORD',
    storeDir: '/data/jetstream',
    users: EXAMPLE_USERS,
  });
}

const ENV = {
  NATS_ROUTE_PASSWORD: 'x',
  NATS_ROUTE_1: 'nats-route://route:x@nats-1:6222',
  NATS_ROUTE_2: 'nats-route://route:x@nats-2:6222',
  NATS_ROUTE_3: 'nats-route://route:x@nats-3:6222',
  CP_PASSWORD_WEB_1: 'a',
  CP_PASSWORD_WEB_2: 'b',
  CP_PASSWORD_CTL_OPS: 'c',
  CP_PASSWORD_OBS_DASHBOARD: 'd',
};

describe('deploy/nats/ files', () => {
  if (process.env.UPDATE_DEPLOY === '1') for (const i of [1, 2, 3]) writeFileSync(deploy(`node-${i}.conf`), productionConf(i));

  it.each([1, 2, 3])('node-%i.conf is the tested template with production ports and paths', (i) => {
    expect(readFileSync(deploy(`node-${i}.conf`), 'utf8')).toBe(productionConf(i));
  });

  it.skipIf(!natsAvailable())('nats-server accepts each file with its variables set', () => {
    for (const i of [1, 2, 3]) {
      const out = execFileSync(natsServerBin(), ['-c', deploy(`node-${i}.conf`), '-t'], { env: { ...process.env, ...ENV }, encoding: 'utf8', stdio: 'pipe', timeout: 10_000 });
      expect(out + '').toBeDefined();
    }
  });
});
