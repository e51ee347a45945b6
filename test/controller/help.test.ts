import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { registerControllerVerbs } from '../../cli/controller/index.js';

const VERBS = ['hosts', 'run', 'exec', 'jobs', 'attach', 'kill', 'input', 'ping', 'shell', 'put', 'get'];

describe('controller verbs --help', () => {
  const program = new Command('conplyent');
  registerControllerVerbs(program);

  it.each(VERBS)('%s has --help with examples, the shared flags and the exit statuses', (verb) => {
    const cmd = program.commands.find((c) => c.name() === verb)!;
    expect(cmd).toBeDefined();
    let help = '';
    cmd.configureOutput({ writeOut: (s) => (help += s) });
    cmd.outputHelp();
    expect(help).toMatch(/Examples:\n {2}conplyent /);
    for (const flag of ['--broker', '--timeout', '--ttl', '--json']) expect(help).toContain(flag);
    expect(help).toMatch(/Exit status: 0 all ok/);
  });
});
