// What every server the tests start (Mosquitto, NATS, Redis) needs alike: where its binary is, and
// a stop that cannot hang (SIGTERM, then SIGKILL after a grace period).
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';

/** The first of `candidates` that exists; the environment variable `envVar` overrides them. */
export function serverBin(envVar: string, candidates: readonly string[], name: string): string {
  const fromEnv = process.env[envVar];
  if (fromEnv) return fromEnv;
  return candidates.find((p) => existsSync(p)) ?? name;
}

/** Sends `signal` and waits for the exit; past `graceMs` the process is SIGKILLed. No-op once it exited. */
export async function stopProcess(proc: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 5_000): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  proc.kill(signal);
  const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
