// Failed logins slow down the next attempts by user name and by address, loopback included, and are
// logged; the tables stay bounded. Pre-CONNECT sockets are closed after connectTimeoutMs.
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser, startBroker, type RunningBroker } from '../../broker/index.js';
import { LoginThrottle } from '../../broker/login-throttle.js';
import { connect, refusal, WAIT_MS } from './clients.js';

const opts = { freeFailures: 2, baseDelayMs: 100, maxDelayMs: 400, windowMs: 60_000 };

describe('LoginThrottle', () => {
  it('lets the first failures through, then doubles the wait per failure up to the maximum', () => {
    const t = new LoginThrottle(opts);
    const delays = [];
    for (let i = 0; i < 6; i++) {
      delays.push(t.delayFor('ops', '10.0.0.1', 1000));
      t.failed('ops', '10.0.0.1', 1000);
    }
    expect(delays).toEqual([0, 0, 100, 200, 400, 400]);
  });

  it('slows a user name from any address and an address for any user name, loopback included', () => {
    const t = new LoginThrottle(opts);
    for (let i = 0; i < 2; i++) t.failed('ops', '127.0.0.1', 0);
    expect(t.delayFor('ops', '127.0.0.9', 0)).toBe(100);
    expect(t.delayFor('someone-else', '127.0.0.1', 0)).toBe(100);
    expect(t.delayFor('someone-else', '127.0.0.9', 0)).toBe(0);
  });

  it('forgets failures after the window and an address after a correct password', () => {
    const t = new LoginThrottle(opts);
    for (let i = 0; i < 2; i++) t.failed('ops', '10.0.0.1', 0);
    expect(t.delayFor('ops', '10.0.0.1', opts.windowMs + 1)).toBe(0);
    for (let i = 0; i < 2; i++) t.failed('dev', '10.0.0.2', 0);
    t.succeeded('10.0.0.2');
    expect(t.delayFor('x', '10.0.0.2', 0)).toBe(0);
    expect(t.delayFor('dev', undefined, 0)).toBe(100); // the user's guesses still count
  });

  it('keeps at most 10,000 user names: the oldest is forgotten first', () => {
    const t = new LoginThrottle({ ...opts, freeFailures: 0 });
    t.failed('first', undefined, 0);
    for (let i = 0; i < 10_000; i++) t.failed(`u${i}`, undefined, 0);
    expect(t.delayFor('first', undefined, 0)).toBe(0);
    expect(t.delayFor('u9999', undefined, 0)).toBe(200);
  });
});

describe('failed logins and silent sockets on the embedded broker', () => {
  let broker: RunningBroker;
  let dir: string;
  const lines: any[] = [];
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cp-throttle-'));
    await addUser(join(dir, 'users.json'), 'ops', 'controller', 'right');
    const sink = new Writable({ write: (chunk, _enc, cb) => (lines.push(JSON.parse(chunk.toString())), cb()) });
    broker = await startBroker({ port: 0, usersFile: join(dir, 'users.json'), loginThrottle: opts, connectTimeoutMs: 300, logger: pino({ level: 'warn' }, sink) });
  });
  afterAll(async () => {
    await broker?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('logs every failed login and delays the attempts past the free ones, even with the right password', async () => {
    for (let i = 0; i < 4; i++) await refusal(broker.url, { username: 'ops', password: 'wrong', clientId: `guess-${i}` });
    const failed = lines.filter((l) => l.msg === 'login failed');
    expect(failed.map((l) => l.failures)).toEqual([1, 2, 3, 4]);
    expect(failed.map((l) => l.delayedMs)).toEqual([0, 0, 100, 200]);
    expect(failed[0]).toMatchObject({ user: 'ops', ip: '127.0.0.1' });
    // The real password still works: slowed, never locked out.
    (await connect(broker.url, { username: 'ops', password: 'right', clientId: 'ops-1' })).end(true);
  });

  it('closes a socket that never completes its CONNECT after connectTimeoutMs', async () => {
    const closed = await new Promise<boolean>((resolve) => {
      const s = tcpConnect({ host: '127.0.0.1', port: broker.port });
      s.on('error', () => {});
      // Half a CONNECT, then silence.
      s.once('connect', () => s.write(Buffer.from([0x10, 0x20, 0x00])));
      const t = setTimeout(() => (s.destroy(), resolve(false)), WAIT_MS);
      s.once('close', () => (clearTimeout(t), resolve(true)));
    });
    expect(closed).toBe(true);
  });

  it('refuses a bad connectTimeoutMs or loginThrottle with a TypeError naming it', async () => {
    await expect(startBroker({ port: 0, connectTimeoutMs: 0 })).rejects.toThrow(/connectTimeoutMs must be a positive integer/);
    await expect(startBroker({ port: 0, loginThrottle: { maxDelayMs: -1 } })).rejects.toThrow(/loginThrottle.maxDelayMs/);
  });
});
