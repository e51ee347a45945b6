// deploy/mosquitto.conf and deploy/acl are the output of the same template the Mosquitto tests use,
// so what CI proves is what operators ship. UPDATE_DEPLOY=1 rewrites them after a template change.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { mosquittoAcl, mosquittoConf } from '../helpers/mosquitto.js';

const deploy = (name: string) => fileURLToPath(new URL(`../../deploy/${name}`, import.meta.url));

/** The production parameters: paths of the eclipse-mosquitto container image. */
export const PRODUCTION_CONF = mosquittoConf({
  port: 1883,
  passwordFile: '/mosquitto/config/passwd',
  aclFile: '/mosquitto/config/acl',
  controllerPort: 1884,
  controllerPasswordFile: '/mosquitto/config/passwd-controllers',
  persistenceDir: '/mosquitto/data/',
  logDest: 'stdout',
});
/** Example controller and observer; their names contain `@` so they can never be host names. */
export const PRODUCTION_ACL = mosquittoAcl([
  { username: 'ctl@ops', role: 'controller' },
  { username: 'obs@dashboard', role: 'observer' },
]);

describe('deploy/ files for Mosquitto', () => {
  if (process.env.UPDATE_DEPLOY === '1') {
    writeFileSync(deploy('mosquitto.conf'), PRODUCTION_CONF);
    writeFileSync(deploy('acl'), PRODUCTION_ACL);
  }

  it('mosquitto.conf is the tested template with production paths', () => {
    expect(existsSync(deploy('mosquitto.conf'))).toBe(true);
    expect(readFileSync(deploy('mosquitto.conf'), 'utf8')).toBe(PRODUCTION_CONF);
  });

  it('acl is the tested template with example users', () => {
    expect(readFileSync(deploy('acl'), 'utf8')).toBe(PRODUCTION_ACL);
  });

  it('sets Nagle off, persistence with a location, auth and the packet limit', () => {
    for (const line of ['set_tcp_nodelay true', 'persistence true', 'persistence_location /mosquitto/data/', 'allow_anonymous false', 'max_packet_size 1048576', 'use_username_as_clientid true', 'max_connections 10000']) {
      expect(PRODUCTION_CONF.split('\n')).toContain(line);
    }
    expect(PRODUCTION_ACL).toContain('pattern read conplyent/%u/cmd');
  });
});
