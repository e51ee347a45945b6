// `conplyent shell <target>`: the original's interactive console. Each line goes to the target as a
// plain-text command (the agent parses it [cp-text-*]); answers print as they arrive. From a pipe it
// runs one command per line and exits at EOF with the worst status of all of them.
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { newJobId, parseTextCommand, type CommandInput } from '../../protocol/index.js';
import type { JobHandle } from '../../controller/job.js';
import { defineVerb, targetOf, withFleet, type VerbContext } from './common.js';
import { Exit, exitFor, worse, type ExitStatus } from './exit-codes.js';
import { ttlFor } from './job-flags.js';
import { JobRenderer } from './render-job.js';

const PROMPT = 'Enter command: ';

// Answered here, without a round trip: what a newcomer types first. The text-command syntax is [cp-text-*].
const HELP = `Each line is sent to the target as a text command; answers print as they arrive.
  ls [dir]                      list a directory
  cd <dir>                      change this shell's directory on the hosts
  cwd                           print it
  exec <program> [args…]        run a program (no shell); exec sh -c '…' for pipes
  rdfile <file> | hash <file>   print a file / its size and SHA-256
  wrfile <file> "text" append=true
  mkdir <dir> | rm <path> [recursive=true] | touch <file>
  os_info | user_name | jobs | kill <job>
  key=value words are options; timeoutMs=60000 ends a command after a minute.
  Ctrl-C kills the running command; exit (or Ctrl-D) leaves.`;
const HISTORY_LINES = 500;

function historyFile(): string {
  return process.env.CONPLYENT_HISTORY ?? join(homedir(), '.conplyent_history');
}

function loadHistory(file: string): string[] {
  try {
    // readline wants the newest entry first.
    return readFileSync(file, 'utf8').split('\n').filter(Boolean).slice(-HISTORY_LINES).reverse();
  } catch {
    return [];
  }
}

function saveHistory(file: string, line: string): void {
  try {
    mkdirSync(dirname(file), { recursive: true });
    appendFileSync(file, line + '\n', { mode: 0o600 });
  } catch {
    /* history is a convenience; an unwritable home must not break the shell */
  }
}

async function shell(ctx: VerbContext, name: string): Promise<ExitStatus> {
  const target = targetOf(ctx.cmd, name);
  const { fleet, out, cfg } = ctx;
  const interactive = process.stdin.isTTY === true;
  const first = fleet.resolve(target);
  if (first.noMatch) {
    out.stderr.write(`target "${name}" matches no known host (conplyent hosts lists them)\n`);
    return Exit.NO_MATCH;
  }
  if (interactive && !out.json) {
    out.stderr.write(`conplyent shell: ${first.expected.length} host(s): ${first.expected.join(', ')}. 'help' lists commands; 'exit' leaves.\n`);
  }
  // Each shell is its own session on the hosts [cp-env-12]: its `cd` moves no other operator.
  const session = (ctx.cmd.opts().session as string | undefined) ?? `sh-${newJobId()}`;
  const hist = historyFile();
  const rl = createInterface({
    input: process.stdin,
    output: interactive ? process.stdout : undefined,
    terminal: interactive,
    history: interactive ? loadHistory(hist) : [],
    historySize: HISTORY_LINES,
    prompt: PROMPT,
  });
  let running: JobHandle | undefined;
  rl.on('SIGINT', () => {
    if (running) {
      out.stderr.write(`\nkilling job ${running.id}\n`);
      void running.kill().catch(() => {});
    } else rl.close();
  });
  let status: ExitStatus = Exit.OK;
  if (interactive) rl.prompt();
  for await (const raw of rl) {
    const line = raw.trim();
    if (line === 'exit' || line === 'quit') break;
    if (line === 'help' || line === '?') {
      out.stderr.write(HELP + '\n');
      if (interactive) rl.prompt();
      continue;
    }
    if (line !== '' && !line.startsWith('#')) {
      if (interactive) saveHistory(hist, line);
      let parsed: CommandInput | undefined;
      try {
        parsed = parseTextCommand(line);
      } catch (e) {
        out.stderr.write(`cannot parse: ${(e as Error).message}\n`);
        status = worse(status, Exit.USAGE);
      }
      if (parsed) {
        const ttlMs = ttlFor(cfg, { queue: false });
        running = fleet.runText(target, line, parsed, { waitMs: cfg.timeoutMs, ttlMs, keepOutput: false, session });
        const { results } = await new JobRenderer(out, running, { limits: { waitMs: cfg.timeoutMs, ttlMs } }).follow({ line });
        status = worse(status, exitFor(results, running.noMatch));
        running = undefined;
      }
    }
    if (interactive) rl.prompt();
  }
  rl.close();
  return status;
}

export function registerShell(program: Command): void {
  defineVerb(program, 'shell <target>', 'interactive console: each line you type is sent to the target as a text command (Enter command: prompt, history)', [
    'conplyent shell web-1',
    "conplyent shell 'web-*'",
    "printf 'cd /tmp\\nls\\nexec uname -a\\n' | conplyent shell web-1     # one command per line, exits at EOF",
    'conplyent shell web-1 --session deploy     # a named session: its directory is kept for the next shell with that name',
    'text commands: ls /var, cd /tmp, exec ls -l, wrfile notes.txt "hello world" append=true, jobs, kill <job>',
  ])
    .option('--session <name>', "the session whose current directory this shell uses and `cd` moves (default: a new one per shell)")
    .action(async (target: string, _o: unknown, cmd: Command) => {
    await withFleet(cmd, target, (ctx) => shell(ctx, target));
  });
}
