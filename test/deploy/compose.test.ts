// The compose files cannot rot: docker-compose validates them, and every conplyent command line in
// them runs through the real CLI (--dry-run / --print-config), with secrets mapped to temp files.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, ensureBuilt, MAIN, ROOT, runCli } from '../cli/run-cli.js';

interface Service {
  image?: string;
  build?: unknown;
  entrypoint?: string[];
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  secrets?: string[];
  profiles?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
}
interface ComposeFile {
  services: Record<string, Service>;
  secrets: Record<string, { file: string }>;
}

const FILES = ['docker-compose.yml', 'docker-compose.embedded.yml'];
const tmp = mkdtempSync(join(tmpdir(), 'cp-compose-'));
const load = (f: string): ComposeFile => parse(readFileSync(join(ROOT, f), 'utf8'), { merge: true }) as ComposeFile;
const ours = (s: Service): boolean => s.build === '.' || s.image === 'conplyent:local';
const AGENT_AND_BROKER = new Set(['agent', 'broker']);

/** Container paths become temp paths: /run/secrets/x → a file holding a dummy password, /data → a dir. */
function localize(value: string, root: string): string {
  return value
    .replace(/\/run\/secrets\/([\w.@-]+)/g, (_m, name: string) => {
      const p = join(root, 'secrets', name);
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, `dummy-${name}\n`);
      return p;
    })
    .replace(/(^|[\s"])\/data\//g, `$1${root}/data/`)
    .replace(/\/var\/lib\/conplyent/g, join(root, 'state'));
}

beforeAll(() => ensureBuilt());
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const haveCompose = spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status === 0;

describe.each(FILES)('%s', (file) => {
  const compose = load(file);

  it.skipIf(!haveCompose && process.env.CI !== 'true')('is valid for docker-compose config -q', () => {
    execFileSync('docker-compose', ['-f', file, 'config', '-q'], { cwd: ROOT, stdio: 'pipe', timeout: 30_000 });
  });

  it('agents start only after a broker with a healthcheck, and log in as their own host name', () => {
    const agents = Object.entries(compose.services).filter(([, s]) => s.command?.[0] === 'agent');
    expect(agents.map(([n]) => n).sort()).toEqual(['db-1', 'web-1', 'web-2']);
    for (const [name, s] of agents) {
      const [dep, cond] = Object.entries(s.depends_on ?? {})[0]!;
      expect(cond.condition).toBe('service_healthy');
      expect(compose.services[dep]!.healthcheck?.test.length).toBeGreaterThan(0);
      const arg = (flag: string): string | undefined => s.command![s.command!.indexOf(flag) + 1];
      expect(arg('--name')).toBe(name);
      expect(arg('--username')).toBe(name);
      expect(s.command!.join(' ')).toMatch(name.startsWith('db') ? /--label role=db/ : /--label role=web/);
    }
    expect(compose.services.controller!.profiles).toEqual(['tools']);
  });

  it('references secrets by file only, none of them committed', () => {
    for (const [, s] of Object.entries(compose.secrets)) {
      expect(s.file).toMatch(/^\.\/deploy\/compose\/secrets\/[\w@-]+\.pw$/);
      expect(spawnSync('git', ['ls-files', '--error-unmatch', s.file], { cwd: ROOT, stdio: 'ignore' }).status).not.toBe(0);
    }
    expect(readFileSync(join(ROOT, file), 'utf8')).not.toMatch(/PASSWORD:\s*\S/);
  });

  for (const [name, service] of Object.entries(load(file).services).filter(([, s]) => ours(s) && !s.entrypoint)) {
    it(`service ${name}: its command is accepted by the real CLI`, async () => {
      const root = mkdtempSync(join(tmp, `${name}-`));
      const env = cleanEnv(Object.fromEntries(Object.entries(service.environment ?? {}).map(([k, v]) => [k, localize(String(v), root)])));
      const args = (service.command ?? []).map((a) => localize(a, root));
      if (AGENT_AND_BROKER.has(args[0]!)) {
        // The users file a compose broker names is written by its init service; here it may be empty.
        const r = await runCli([...args, '--dry-run'], { env });
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        expect(r.stdout).toMatch(/^would start /);
      } else {
        // A controller verb: it must exist, and the service's env must make a valid controller config.
        const r = await runCli([...args, '--print-config'], { env });
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        const cfg = JSON.parse(r.stdout) as Record<string, unknown>;
        expect(cfg.password).toBe('***');
        expect(cfg.username).toBe(service.environment!.CONPLYENT_USERNAME);
      }
    });
  }

  for (const [name, service] of Object.entries(load(file).services).filter(([, s]) => ours(s) && s.entrypoint)) {
    it(`service ${name}: its shell script runs with the real CLI`, () => {
      const root = mkdtempSync(join(tmp, `${name}-`));
      mkdirSync(join(root, 'data'), { recursive: true });
      // Scripts name secrets through variables (/run/secrets/$$u): create every secret the service gets.
      for (const secret of service.secrets ?? []) localize(`/run/secrets/${secret}`, root);
      const script = localize(service.command!.join('\n'), root)
        .replaceAll('/run/secrets/', `${root}/secrets/`)
        .replace(/\$\$/g, '$') // compose escaping
        .replaceAll('node /app/dist/cli/main.js', `"${process.execPath}" "${MAIN}"`);
      expect(service.entrypoint).toEqual(['/bin/sh', '-ec']);
      execFileSync('/bin/sh', ['-ec', script], { env: cleanEnv(), stdio: 'pipe', timeout: 60_000 });
      const users = JSON.parse(readFileSync(join(root, 'data/users.json'), 'utf8')) as { users: Record<string, { role: string }> };
      const roles = Object.fromEntries(Object.entries(users.users).map(([u, e]) => [u, e.role]));
      const controllerUser = compose.services.controller!.environment!.CONPLYENT_USERNAME!;
      expect(roles).toEqual({ 'web-1': 'agent', 'web-2': 'agent', 'db-1': 'agent', [controllerUser]: 'controller' });
    });
  }
});

describe('docker-compose.yml with Mosquitto', () => {
  const compose = load('docker-compose.yml');
  const conf = readFileSync(join(ROOT, 'deploy/mosquitto.conf'), 'utf8');
  const setting = (key: string): string => new RegExp(`^${key}\\s+(\\S+)`, 'm').exec(conf)![1]!;
  const mounts = (s: Service): [string, string][] => (s.volumes ?? []).map((v) => v.split(':').slice(0, 2) as [string, string]);

  it('mounts what deploy/mosquitto.conf reads: the ACL, and the password file the init service writes', () => {
    const m = compose.services.mosquitto!;
    expect(m.image).toMatch(/^eclipse-mosquitto:2/);
    const acl = mounts(m).find(([, target]) => target === setting('acl_file'));
    expect(acl?.[0]).toBe('./deploy/acl');
    const pwDir = mounts(m).find(([, target]) => target === dirname(setting('password_file')));
    expect(pwDir, 'password_file directory is mounted').toBeDefined();
    const init = compose.services['mosquitto-passwd']!;
    const initTarget = mounts(init).find(([src]) => src === pwDir![0])![1];
    expect(init.command!.join('\n')).toContain(`${initTarget}/${basename(setting('password_file'))}`);
  });

  it('gives the controller a user that deploy/acl grants', () => {
    const user = compose.services.controller!.environment!.CONPLYENT_USERNAME!;
    expect(readFileSync(join(ROOT, 'deploy/acl'), 'utf8')).toMatch(new RegExp(`^user ${user.replace(/[.@]/g, '\\$&')}\\n(topic .*\\n)*topic write conplyent/\\+/cmd`, 'm'));
    expect(compose.services['mosquitto-passwd']!.command!.join('\n')).toContain(`mosquitto_passwd -b /passwd/passwd ${user} `);
  });
});

describe('Dockerfile', () => {
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  it('builds in one stage and runs production dependencies as a non-root user in another', () => {
    expect(text.match(/^FROM node:20-bookworm-slim AS \w+$/gm)).toHaveLength(2);
    const runtime = text.slice(text.lastIndexOf('FROM '));
    expect(runtime).toMatch(/npm ci --omit=dev/);
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).toContain('ENTRYPOINT ["node", "/app/dist/cli/main.js"]');
    expect(existsSync(join(ROOT, '.dockerignore'))).toBe(true);
  });
});
