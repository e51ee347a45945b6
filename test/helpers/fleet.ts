// A fleet for controller tests: many real agents in one child process (fleet-main.mjs over dist/),
// and the `conplyent` CLI run as a subprocess. Every wait is bounded.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const FLEET_MAIN = fileURLToPath(new URL('./fleet-main.mjs', import.meta.url));
export const CLI_MAIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export interface AgentSpec {
  name: string;
  labels?: Record<string, string>;
  /** Connect as user <name> with this password (brokers with users). */
  password?: string;
  /** The agent's allowance for clock differences (default 5 s), smaller for TTL tests. */
  clockSkewMs?: number;
}

export interface TestFleet {
  stateRoot: string;
  /** Stops one agent cleanly (its status goes offline). */
  stopAgent(name: string): Promise<void>;
  startAgent(name: string): Promise<void>;
  close(): Promise<void>;
}

function waitForLine(child: ChildProcess, text: string, getOut: () => string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`fleet: no "${text}" within ${timeoutMs} ms:\n${getOut().slice(-2000)}`)), timeoutMs);
    const check = () => {
      if (getOut().includes(`${text}\n`)) {
        clearTimeout(t);
        child.stdout!.off('data', check);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`fleet process exited (${code}):\n${getOut().slice(-2000)}`));
    });
    check();
  });
}

/** Starts the agents (all in one process) and resolves once every one is online. */
export async function startFleet(broker: string, agents: AgentSpec[], timeoutMs = 20_000): Promise<TestFleet> {
  const stateRoot = mkdtempSync(join(tmpdir(), 'conplyent-fleet-'));
  const child = spawn(process.execPath, [FLEET_MAIN, JSON.stringify({ broker, stateRoot, agents })], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await waitForLine(child, 'ready', () => out, timeoutMs);
  return {
    stateRoot,
    async stopAgent(name) {
      child.stdin!.write(`stop ${name}\n`);
      await waitForLine(child, `stopped ${name}`, () => out, 10_000);
    },
    async startAgent(name) {
      child.stdin!.write(`start ${name}\n`);
      await waitForLine(child, `started ${name}`, () => out, 10_000);
    },
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 8_000);
        await exited;
        clearTimeout(t);
      }
      rmSync(stateRoot, { recursive: true, force: true });
    },
  };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

let cliRuns = 0;

/** Runs `conplyent <args>` against a broker; stdin is fed `input` (then closed). */
export function runCli(broker: string, args: string[], o: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  // Each run pins agent keys in its own file: test agents get new keys under old names, which the
  // user's real ~/.config/conplyent/known_hosts would (rightly) report as forged.
  const knownHosts = join(tmpdir(), `cp-known-hosts-${process.pid}-${++cliRuns}`);
  const child = spawn(process.execPath, [CLI_MAIN, ...args], {
    env: { ...process.env, NO_COLOR: '1', CONPLYENT_BROKER: broker, CONPLYENT_HISTORY: join(tmpdir(), 'conplyent-test-history'), CONPLYENT_KNOWN_HOSTS: knownHosts, ...o.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  child.stdin!.end(o.input ?? '');
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`conplyent ${args.join(' ')} did not exit within ${o.timeoutMs ?? 30_000} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, o.timeoutMs ?? 30_000);
    child.once('exit', (code) => {
      clearTimeout(t);
      rmSync(knownHosts, { force: true });
      resolve({ code, stdout, stderr });
    });
  });
}

/** Parses NDJSON output; a line that is not JSON fails the test with the line in the message. */
export function ndjson(text: string): any[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      try {
        return JSON.parse(l);
      } catch {
        throw new Error(`not NDJSON: ${l}`);
      }
    });
}
