// `conplyent broker`: the users file round trip, the refusal to expose an open broker, and the
// one-box fleet of `npm start` (broker + local agent in one process, clean Ctrl-C).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyUser } from '../../broker/index.js';
import { decodePresence, topics, type Presence } from '../../protocol/index.js';
import { cleanEnv, ensureBuilt, MAIN, ROOT, runCli } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'cp-broker-cli-'));
const users = join(dir, 'users.json');
const children: ChildProcess[] = [];

beforeAll(() => ensureBuilt());
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('broker user add/list/remove', () => {
  it('round-trips users with hashed passwords from stdin, a file and env', async () => {
    const env = cleanEnv();
    const a = await runCli(['broker', 'user', 'add', 'web-1', '--role', 'agent', '--users', users], { env, input: 'pw-from-stdin\n' });
    expect(a.stderr).toBe('');
    expect(a.stdout).toBe(`user web-1 (agent) saved in ${users}\n`);
    const pw = join(dir, 'ops.pw');
    writeFileSync(pw, 'pw-from-file\n');
    expect((await runCli(['broker', 'user', 'add', 'ops', '--role', 'controller', '--password-file', pw, '--users', users], { env })).code).toBe(0);
    expect((await runCli(['broker', 'user', 'add', 'dash', '--role', 'observer'], { env: cleanEnv({ CONPLYENT_PASSWORD: 'pw-from-env', CONPLYENT_SERVER_USERS: users }) })).code).toBe(0);

    const list = await runCli(['broker', 'user', 'list', '--users', users], { env });
    expect(list.stdout).toBe('dash\tobserver\nops\tcontroller\nweb-1\tagent\n');
    expect(readFileSync(users, 'utf8')).not.toMatch(/pw-from/);
    expect(await verifyUser(users, 'web-1', 'pw-from-stdin')).toBe('agent');
    expect(await verifyUser(users, 'ops', 'pw-from-file')).toBe('controller');
    expect(await verifyUser(users, 'dash', 'pw-from-env')).toBe('observer');

    const rm = await runCli(['broker', 'user', 'remove', 'web-1', '--users', users], { env });
    expect(rm.stdout).toBe(`user web-1 removed from ${users}\n`);
    const json = await runCli(['broker', 'user', 'list', '--json', '--users', users], { env });
    expect(JSON.parse(json.stdout)).toEqual([{ name: 'dash', role: 'observer' }, { name: 'ops', role: 'controller' }]);
  });

  it('rejects bad names, roles and unknown users with one line', async () => {
    const env = cleanEnv({ CONPLYENT_PASSWORD: 'x' });
    const bad = await runCli(['broker', 'user', 'add', 'a/b', '--role', 'agent', '--users', users], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^conplyent: agent user "a\/b" must be a valid host name/);
    const role = await runCli(['broker', 'user', 'add', 'x', '--role', 'root', '--users', users], { env });
    expect(role.code).not.toBe(0);
    expect(role.stderr).toMatch(/--role.*root.*agent, controller, observer/s);
    const gone = await runCli(['broker', 'user', 'remove', 'nobody', '--users', users], { env });
    expect(gone.code).toBe(2);
    expect(gone.stderr.trim()).toBe(`conplyent: user nobody: no such user in ${users}`);
  });
});

describe('broker exposure', () => {
  it('refuses a non-loopback host without users, explaining how to add them', async () => {
    for (const extra of [['--dry-run'], []]) {
      const r = await runCli(['broker', '--host', '0.0.0.0', '--port', '0', ...extra], { env: cleanEnv() });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('refusing to listen on 0.0.0.0 without authentication');
      expect(r.stderr).toContain('conplyent broker user add');
      expect(r.stderr).toContain('--allow-unauthenticated');
    }
  });

  it('accepts it with a users file (the local agent then logs in too) or an explicit --allow-unauthenticated', async () => {
    const withUsers = await runCli(['broker', '--host', '0.0.0.0', '--users', users, '--dry-run'], { env: cleanEnv() });
    expect(withUsers.code).toBe(0);
    expect(withUsers.stdout).toMatch(/^would start broker on 0.0.0.0:1883\n/);
    const noLogin = await runCli(['broker', '--users', users, '--with-agent', '--name', 'box-1', '--dry-run'], { env: cleanEnv() });
    expect(noLogin.code).toBe(2);
    expect(noLogin.stderr).toContain('--username box-1 --password-file FILE');
    const open = await runCli(['broker', '--dry-run'], { env: cleanEnv({ CONPLYENT_SERVER_HOST: '0.0.0.0', CONPLYENT_SERVER_ALLOW_UNAUTHENTICATED: '1' }) });
    expect(open.code).toBe(0);
  });
});

function waitFor(child: ChildProcess, out: () => string, re: RegExp, ms = 15_000): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${re}:\n${out()}`)), ms);
    const check = (): void => {
      const m = re.exec(out());
      if (m) {
        clearTimeout(timer);
        child.stdout!.off('data', check);
        resolve(m);
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', () => reject(new Error(`exited early:\n${out()}`)));
    check();
  });
}

describe('one-box fleet: broker --with-agent', () => {
  it('starts a broker and a local agent with plugins that the controller verbs can use; Ctrl-C takes the agent offline first', async () => {
    const env = cleanEnv({ CONPLYENT_LOG_LEVEL: 'warn' });
    const child = spawn(process.execPath, [MAIN, 'broker', '--port', '0', '--with-agent', '--name', 'box-1', '--label', 'role=box', '--state-dir', join(dir, 'state'), '--plugin', './test/cli/fixtures/hello-plugin.mjs'], { env, cwd: ROOT });
    children.push(child);
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const [, url] = await waitFor(child, () => out, /listening on (mqtt:\/\/127\.0\.0\.1:\d+), with local agent "box-1"/);
    // Not on PATH in this clean environment: the banner names this script, runnable as printed from here.
    expect(out).toContain(`node dist/cli/main.js hosts --broker ${url}`);
    const printed = /^ {2}(node dist\/cli\/main\.js exec all .*)$/m.exec(out)![1]!;
    const asTyped = spawnSync('bash', ['-c', printed], { cwd: ROOT, env: { ...env, PATH: `${dirname(process.execPath)}:${env.PATH}` }, encoding: 'utf8', timeout: 20_000 });
    expect(asTyped.status, asTyped.stderr).toBe(0);
    expect(asTyped.stdout).toMatch(/^box-1: \S+/);

    const client = mqtt.connect(url!, { clientId: `t-${process.pid}`, reconnectPeriod: 0 });
    client.on('connect', () => (client.stream as unknown as { setNoDelay?(b: boolean): void })?.setNoDelay?.(true));
    const seen: Presence[] = [];
    client.on('message', (_t, payload) => {
      const p = decodePresence(payload);
      if (p) seen.push(p);
    });
    await new Promise<void>((res, rej) => client.once('connect', () => client.subscribe(topics.status('box-1'), { qos: 1 }, (e) => (e ? rej(e) : res()))));
    await expect.poll(() => seen.some((p) => p.online), { timeout: 10_000 }).toBe(true);
    expect(seen.find((p) => p.online)!.labels).toEqual({ role: 'box' });

    // What the banner promises, plus the custom command registered by the plugin.
    const exec = await runCli(['exec', 'all', '--broker', url!, '--', 'echo', 'hi'], { env });
    expect(exec.stdout).toBe('box-1: hi\n');
    expect(exec.code).toBe(0);
    const hello = await runCli(['run', 'all', 'hello', 'bob', '--broker', url!], { env });
    expect(hello.stdout).toBe('box-1: hello bob\n');
    expect(hello.code).toBe(0);

    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(seen.at(-1)).toMatchObject({ online: false, reason: 'shutdown' });
    client.end(true);
  });
});

describe('quick start without friction', () => {
  it('a busy port is a usage error (2) that prints the exact commands for another port', async () => {
    const server = createServer().listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const port = (server.address() as { port: number }).port;
    try {
      const r = await runCli(['broker', '--port', String(port)], { env: cleanEnv() });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('the port is in use');
      expect(r.stderr).toContain(`node dist/cli/main.js broker --with-agent --port ${port + 1}`);
      expect(r.stderr).toContain(`export CONPLYENT_PORT=${port + 1}`);
    } finally {
      server.close();
    }
  });

  it('CONPLYENT_PORT sets the broker port and where every controller connects; a bad one is exit 2', async () => {
    const env = cleanEnv({ CONPLYENT_PORT: '18999' });
    expect(JSON.parse((await runCli(['broker', '--print-config'], { env })).stdout).port).toBe(18999);
    expect(JSON.parse((await runCli(['hosts', '--print-config'], { env })).stdout).broker).toEqual(['mqtt://127.0.0.1:18999']); // a broker list [cp-conn-7]
    expect((await runCli(['hosts'], { env: cleanEnv({ CONPLYENT_PORT: 'x' }) })).code).toBe(2);
  });

  it('conplyent completion bash completes verbs and their flags; an unknown shell is exit 2', async () => {
    const script = (await runCli(['completion', 'bash'])).stdout;
    const r = spawnSync('bash', ['-c', `${script}\nCOMP_WORDS=(conplyent exec --kill); COMP_CWORD=2; _conplyent; echo "\${COMPREPLY[@]}"; COMP_WORDS=(conplyent att); COMP_CWORD=1; _conplyent; echo "\${COMPREPLY[@]}"`], { encoding: 'utf8' });
    expect(r.stdout).toBe('--kill-after\nattach\n');
    expect((await runCli(['completion', 'zsh'])).stdout).toContain('bashcompinit');
    expect((await runCli(['completion', 'fish'])).code).toBe(2);
  });
});
