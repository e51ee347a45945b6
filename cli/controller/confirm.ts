// A last question before commands that cannot be taken back, sent to more than one host: reboot,
// shutdown, close_server, a recursive rm (built-in, or `exec rm -r`). Asked only on a terminal;
// scripts and pipes are not interactive and go ahead, and --yes skips the question.
import { createInterface } from 'node:readline/promises';
import { compressHosts } from '../../controller/host-ranges.js';
import type { VerbContext } from './common.js';
import type { RunRequest } from './run.js';

const ALWAYS = new Set(['reboot', 'shutdown', 'close_server']);

function dangerous(req: RunRequest): boolean {
  if (ALWAYS.has(req.command)) return true;
  if (req.command === 'rm') return req.opts?.recursive === true;
  if (req.command !== 'exec') return false;
  const [program, ...args] = (req.args ?? []).map(String);
  // `rm -r`, `rm -rf`, `rm -fR`, `rm --recursive`, also through --shell's one command line.
  const words = req.opts?.shell ? (program ?? '').split(/\s+/) : [program ?? '', ...args];
  const rm = words.findIndex((w) => /(^|\/)rm$/.test(w));
  return rm >= 0 && words.slice(rm + 1).some((w) => /^-[a-zA-Z]*[rR]/.test(w) || w === '--recursive');
}

/** True to go ahead. False: the operator said no (nothing was sent). */
export async function confirmDanger(ctx: VerbContext, req: RunRequest, yes: boolean): Promise<boolean> {
  if (yes || !dangerous(req) || process.stdin.isTTY !== true || process.stderr.isTTY !== true) return true;
  const { expected } = ctx.fleet.resolve(req.target);
  if (expected.length < 2) return true;
  const what = [req.command, ...(req.args ?? []).map(String)].join(' ');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${what} on ${expected.length} hosts (${compressHosts(expected)})? [y/N] `);
    if (/^y(es)?$/i.test(answer.trim())) return true;
    ctx.out.stderr.write('not confirmed: nothing was sent (--yes skips this question)\n');
    return false;
  } finally {
    rl.close();
  }
}
