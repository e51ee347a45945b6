// A real Node-RED 4 process for the tests: headless on a free loopback port, its own userDir, a given
// flow file, optional extra node directories. Driven over HTTP (admin API and http-in endpoints).
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../helpers/brokers.js';

const require = createRequire(import.meta.url);
const RED_JS = require.resolve('node-red/red.js');

export interface NodeRed {
  url: string;
  userDir: string;
  proc: ChildProcess;
  /** Everything Node-RED logged so far. */
  log(): string;
  /** Resolves when `re` appears in the log (bounded). */
  waitForLog(re: RegExp, timeoutMs?: number): Promise<void>;
  get(path: string): Promise<{ status: number; body: any; text: string }>;
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; text: string }>;
  alive(): boolean;
  stop(): Promise<void>;
}

export interface NodeRedOptions {
  flows: unknown[];
  nodesDir?: string[];
  credentialSecret?: string;
  /** More settings.js entries. */
  settings?: Record<string, unknown>;
}

async function readBody(res: Response): Promise<{ status: number; body: any; text: string }> {
  const text = await res.text();
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: res.status, body, text };
}

export async function startNodeRed(o: NodeRedOptions): Promise<NodeRed> {
  const userDir = mkdtempSync(join(tmpdir(), 'cp-nodered-'));
  const port = await freePort();
  writeFileSync(join(userDir, 'flows.json'), JSON.stringify(o.flows, null, 2));
  const settings = {
    uiHost: '127.0.0.1',
    uiPort: port,
    userDir,
    flowFile: 'flows.json',
    credentialSecret: o.credentialSecret ?? 'test-secret',
    nodesDir: o.nodesDir ?? [],
    diagnostics: { enabled: false, ui: false },
    telemetry: { enabled: false, updateNotification: false },
    externalModules: { autoInstall: false, palette: { allowInstall: false }, modules: { allowInstall: false } },
    logging: { console: { level: 'info', metrics: false, audit: false } },
    editorTheme: { tours: false },
    ...o.settings,
  };
  const settingsFile = join(userDir, 'settings.js');
  writeFileSync(settingsFile, `module.exports = ${JSON.stringify(settings, null, 2)};\n`);
  let out = '';
  const waiters = new Set<() => void>();
  const proc = spawn(process.execPath, [RED_JS, '--settings', settingsFile, '--userDir', userDir], {
    cwd: userDir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_RED_ENABLE_PROJECTS: 'false' },
  });
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const w of waiters) w();
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  let exited = false;
  proc.on('exit', () => {
    exited = true;
    for (const w of waiters) w();
  });
  const url = `http://127.0.0.1:${port}`;
  const waitForLog = (re: RegExp, timeoutMs = 20_000) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (re.test(out)) return done(), resolve();
        if (exited) return done(), reject(new Error(`Node-RED exited before ${re}:\n${out.slice(-3000)}`));
      };
      const timer = setTimeout(() => (done(), reject(new Error(`no ${re} in Node-RED's log within ${timeoutMs} ms:\n${out.slice(-3000)}`))), timeoutMs);
      const done = () => (clearTimeout(timer), waiters.delete(check));
      waiters.add(check);
      check();
    });
  const red: NodeRed = {
    url,
    userDir,
    proc,
    log: () => out,
    waitForLog,
    get: async (path) => readBody(await fetch(url + path, { signal: AbortSignal.timeout(30_000) })),
    post: async (path, body, headers = {}) =>
      readBody(await fetch(url + path, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers }, signal: AbortSignal.timeout(30_000) })),
    alive: () => !exited,
    stop: async () => {
      // CONPLYENT_NR_LOG=/tmp/nr.log keeps Node-RED's log of a run for a person to read.
      if (process.env.CONPLYENT_NR_LOG) appendFileSync(process.env.CONPLYENT_NR_LOG, out);
      if (!exited) {
        proc.kill('SIGTERM');
        const gone = new Promise<void>((r) => proc.once('exit', () => r()));
        const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
        await gone;
        clearTimeout(t);
      }
      rmSync(userDir, { recursive: true, force: true });
    },
  };
  try {
    await waitForLog(/Started flows/);
  } catch (e) {
    await red.stop();
    throw e;
  }
  return red;
}

/** The example flows with the broker config node pointed at our test broker. */
export function withBrokerPort(flows: any[], port: number): any[] {
  return flows.map((n) => (n.type === 'mqtt-broker' ? { ...n, broker: '127.0.0.1', port: String(port) } : n));
}
