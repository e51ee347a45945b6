// `conplyent agent` as a process: logs in with a password file, goes online, and SIGTERM stops it
// cleanly (offline presence, exit 0).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { addUser, startBroker, type RunningBroker } from '../../broker/index.js';
import { decodePresence, topics, type Presence } from '../../protocol/index.js';
import { cleanEnv, ensureBuilt, MAIN, ROOT, runCli } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'cp-agent-cli-'));
let broker: RunningBroker;

beforeAll(async () => {
  ensureBuilt();
  const users = join(dir, 'users.json');
  await addUser(users, 'solo', 'agent', 'solo-pw');
  await addUser(users, 'watcher', 'observer', 'watch-pw');
  await addUser(users, 'ops', 'controller', 'ops-pw');
  writeFileSync(join(dir, 'solo.pw'), 'solo-pw\n');
  broker = await startBroker({ port: 0, usersFile: users });
});
afterAll(async () => {
  await broker?.close();
  rmSync(dir, { recursive: true, force: true });
});

it('runs with credentials from a password file and stops cleanly on SIGTERM', async () => {
  const seen: Presence[] = [];
  const client = mqtt.connect(broker.url, { username: 'watcher', password: 'watch-pw', reconnectPeriod: 0 });
  client.on('connect', () => (client.stream as unknown as { setNoDelay?(b: boolean): void })?.setNoDelay?.(true));
  client.on('message', (_t, payload) => {
    const p = decodePresence(payload);
    if (p) seen.push(p);
  });
  await new Promise<void>((res, rej) => client.once('connect', () => client.subscribe(topics.status('solo'), { qos: 1 }, (e) => (e ? rej(e) : res()))));

  const env = cleanEnv({ CONPLYENT_BROKER: broker.url, CONPLYENT_PASSWORD_FILE: join(dir, 'solo.pw'), CONPLYENT_LOG_LEVEL: 'warn' });
  const child = spawn(process.execPath, [MAIN, 'agent', '--name', 'solo', '--username', 'solo', '--state-dir', join(dir, 'state')], { env, cwd: ROOT });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  try {
    await expect.poll(() => seen.some((p) => p.online), { timeout: 10_000 }).toBe(true);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(seen.at(-1)).toMatchObject({ online: false, reason: 'shutdown' });
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    client.end(true);
  }
  expect(out).not.toMatch(/"level":50/); // no errors logged
});

it('exits 0 when a controller sends close_server', async () => {
  const env = cleanEnv({ CONPLYENT_BROKER: broker.url, CONPLYENT_PASSWORD_FILE: join(dir, 'solo.pw'), CONPLYENT_LOG_LEVEL: 'warn' });
  const child = spawn(process.execPath, [MAIN, 'agent', '--name', 'solo', '--username', 'solo', '--state-dir', join(dir, 'state2')], { env, cwd: ROOT });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  try {
    const ctl = cleanEnv({ CONPLYENT_BROKER: broker.url, CONPLYENT_USERNAME: 'ops', CONPLYENT_PASSWORD: 'ops-pw' });
    // Sent while the agent may still be connecting: QoS 1 and its session deliver it either way.
    await expect.poll(async () => (await runCli(['hosts', 'solo', '--json'], { env: ctl })).stdout, { timeout: 10_000, interval: 200 }).toContain('"online":true');
    await runCli(['run', 'solo', 'close_server'], { env: ctl });
    expect(await exited).toBe(0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
  expect(out).not.toMatch(/"level":50/);
});
