// The controller verbs of the `conplyent` command (one file per verb); cli/main.ts calls registerControllerVerbs.
import type { Command } from 'commander';
import { registerAttach } from './attach.js';
import { registerAudit } from './audit.js';
import { registerExec } from './exec.js';
import { registerGet } from './get.js';
import { registerHosts } from './hosts.js';
import { registerInput } from './input.js';
import { registerJobs } from './jobs.js';
import { registerKill } from './kill.js';
import { registerPing } from './ping.js';
import { registerPut } from './put.js';
import { registerRun } from './run.js';
import { registerShell } from './shell.js';

export { Exit, exitFor } from './exit-codes.js';

export function registerControllerVerbs(program: Command): void {
  registerHosts(program);
  registerRun(program);
  registerExec(program);
  registerJobs(program);
  registerAttach(program);
  registerKill(program);
  registerInput(program);
  registerPing(program);
  registerShell(program);
  registerPut(program);
  registerGet(program);
  registerAudit(program);
}
