// The lazy verb table of cli/verbs.ts: it names every verb its modules register, and a verb loads
// only what it needs (`--version` next to nothing, a controller verb no agent or broker runtime).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { VERB_GROUPS } from '../../cli/verbs.js';
import { ensureBuilt, MAIN, ROOT } from './run-cli.js';

const HOOK = join(ROOT, 'test/cli/fixtures/log-modules.mjs');

function modulesLoaded(args: string[]): string[] {
  const r = spawnSync(process.execPath, ['--import', HOOK, MAIN, ...args], { encoding: 'utf8', timeout: 30_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/nonexistent' } });
  expect(r.status, r.stderr).toBe(0);
  const urls = r.stderr.split('\n').filter((l) => l.startsWith('MODULE ')).map((l) => l.slice('MODULE '.length).replace(`file://${ROOT.replace(/\/$/, '')}`, ''));
  return [...new Set(urls)];
}

describe('cli/verbs.ts', () => {
  it('lists exactly the verbs (with their usage) that each module registers', async () => {
    for (const g of VERB_GROUPS) {
      const program = new Command();
      (await g.load())(program);
      const registered = program.commands.map((c) => [c.name(), ...c.registeredArguments.map((a) => (a.required ? `<${a.name()}${a.variadic ? '...' : ''}>` : `[${a.name()}${a.variadic ? '...' : ''}]`))].join(' '));
      expect(registered.sort()).toEqual(Object.keys(g.verbs).sort());
    }
  });

  it('--version loads the entry point only, not even commander; --help adds commander and no verb', () => {
    ensureBuilt();
    // cli/compile-cache.ts imports only node: modules.
    const entry = ['/dist/cli/compile-cache.js', '/dist/cli/config-error.js', '/dist/cli/main.js', '/dist/cli/verbs.js'];
    expect(modulesLoaded(['--version']).sort()).toEqual(entry);
    expect(modulesLoaded(['--help']).filter((m) => !m.includes('/node_modules/commander/')).sort()).toEqual(entry);
  });

  it('a controller verb loads no agent runtime, no broker runtime, no aedes, no level', () => {
    ensureBuilt();
    const mods = modulesLoaded(['exec', '--help']);
    expect(mods).toContain('/dist/cli/controller/exec.js');
    // agent/options.ts (with the key loading it normalises) and broker/options.ts are settings the
    // shared config reads, not runtime.
    const runtime = mods.filter((m) => /\/node_modules\/(aedes|aedes-[^/]+|level|classic-level|mqemitter[^/]*|ioredis|execa)\//.test(m) || /\/dist\/agent\/(?!options\.js|trust\/keys\.js)/.test(m) || /\/dist\/broker\/(?!options\.js|cluster\.js|cluster-adapter\.js)/.test(m));
    expect(runtime).toEqual([]);
  });

  it('a controller verb loads its own module, not the other verbs (exec loads neither the shell nor put)', () => {
    ensureBuilt();
    const mods = modulesLoaded(['exec', '--help']);
    const verbs = mods.filter((m) => /^\/dist\/cli\/controller\/(hosts|jobs|attach|kill|input|ping|shell|put|get|audit|index)\.js$/.test(m));
    expect(verbs).toEqual([]);
  });
});
