#!/usr/bin/env node
// The `conplyent` command: one binary for the agent, the embedded broker and the controller verbs.
// Only this layer prints and sets exit codes; the libraries behind it return values and throw.
import { readFileSync } from 'node:fs';
import { enableCompileCache } from './compile-cache.js';
import { ConfigError } from './config-error.js';
import { registerVerbs, verbIn } from './verbs.js';

function version(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** One clear line per failure; the stack only with CONPLYENT_DEBUG=1. */
function report(err: unknown): void {
  const e = err instanceof Error ? err : new Error(String(err));
  if (process.env.CONPLYENT_DEBUG === '1') process.stderr.write(`${e.stack ?? e.message}\n`);
  else process.stderr.write(`conplyent: ${e.message}\n`);
}

async function main(argv: string[]): Promise<void> {
  // `--version` alone answers before commander loads: scripts and package managers call it often.
  if (argv.length === 3 && (argv[2] === '--version' || argv[2] === '-V')) return void process.stdout.write(`${version()}\n`);
  // Before anything big loads: every module imported from here on can come from the cache.
  enableCompileCache();
  const { Command } = await import('commander');
  const program = new Command('conplyent')
    .description('fleet control over MQTT: an agent on every host, one publish reaches the whole fleet')
    .version(version(), '-V, --version')
    // Options after a verb belong to that verb (`agent install --name x`, `broker user add n --users f`).
    .enablePositionalOptions()
    // Usage errors are 2 everywhere (docs/controller.md): an unknown verb (`conplyent exce all`), no
    // verb at all, a bad flag. Commander's own status for them is 1, the same as "a host failed".
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2))
    .addHelpText(
      'after',
      `
Quick start (one box):
  npm start                                  # = conplyent broker --with-agent
  conplyent hosts
  conplyent exec all -- uname -a

Config: flags > env (CONPLYENT_*) > --config FILE (JSON, docs/config.md) > defaults.
Set CONPLYENT_DEBUG=1 to see stack traces.`,
    );
  await registerVerbs(program, verbIn(argv.slice(2)));
  await program.parseAsync(argv);
}

process.on('unhandledRejection', (err) => {
  report(err);
  process.exit(1);
});

main(process.argv).catch((err: unknown) => {
  report(err);
  // exit, not exitCode: a half-started agent or broker would otherwise keep the process alive.
  // Bad usage or config is 2 for every part, as for the controller verbs (docs/controller.md).
  const usage = err instanceof ConfigError || (err as { code?: unknown } | null)?.code === 'INSECURE_BROKER';
  process.exit(usage ? 2 : 1);
});
