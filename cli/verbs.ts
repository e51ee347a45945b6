// Every verb of `conplyent` and the module that registers it, loaded only when that verb runs: a
// controller verb never pays for the agent, the broker or aedes, and `--help` pays for none of them.
// A drift test (test/cli/verbs.test.ts) checks this list against what the modules register.
import type { Command } from 'commander';

type Register = (program: Command) => void;

export interface VerbGroup {
  /** Loads the module and returns its register function; it registers every verb of the group. */
  load: () => Promise<Register>;
  /** Verb usage (as the module declares it) → one line for the top-level --help. */
  verbs: Record<string, string>;
}

/**
 * One group per controller verb: `exec` loads cli/controller/exec.ts and what it imports, not the
 * shell's readline, put's progress or audit's chain check (each module registers only its verb).
 */
const controller: readonly VerbGroup[] = [
  { load: async () => (await import('./controller/hosts.js')).registerHosts, verbs: { 'hosts [target]': 'list the hosts the broker knows: online state, labels, OS' } },
  { load: async () => (await import('./controller/run.js')).registerRun, verbs: { 'run <target> <command> [args...]': 'run a command on every selected host, streaming output per host' } },
  { load: async () => (await import('./controller/exec.js')).registerExec, verbs: { 'exec <target> <program> [args...]': 'start a program on every selected host (put -- before the program)' } },
  { load: async () => (await import('./controller/jobs.js')).registerJobs, verbs: { 'jobs [target]': 'list running and recent jobs on the selected hosts' } },
  { load: async () => (await import('./controller/attach.js')).registerAttach, verbs: { 'attach <target> <job>': "follow a job's output on every selected host, from the start, then live" } },
  { load: async () => (await import('./controller/kill.js')).registerKill, verbs: { 'kill <target> <job>': "end a running job's process tree on every selected host" } },
  { load: async () => (await import('./controller/input.js')).registerInput, verbs: { 'input <target> <job> <text>': "write a line to a running job's stdin on every selected host" } },
  { load: async () => (await import('./controller/ping.js')).registerPing, verbs: { 'ping [target]': 'ask every selected host to answer; prints the round trip' } },
  { load: async () => (await import('./controller/shell.js')).registerShell, verbs: { 'shell <target>': 'interactive console: each line is a text command to the target' } },
  { load: async () => (await import('./controller/put.js')).registerPut, verbs: { 'put <target> <local> <remote>': 'copy a local file to every selected host (sha256 checked)' } },
  { load: async () => (await import('./controller/get.js')).registerGet, verbs: { 'get <host> <remote> <local>': 'copy a file from a host to a local path (sha256 checked)' } },
  { load: async () => (await import('./controller/audit.js')).registerAudit, verbs: { 'audit <host>': "show a host's audit log: every command it accepted or refused and how each job ended" } },
];

export const VERB_GROUPS: readonly VerbGroup[] = [
  { load: async () => (await import('./agent.js')).registerAgent, verbs: { agent: 'run the agent on this host; `agent install` puts it under systemd' } },
  { load: async () => (await import('./broker.js')).registerBroker, verbs: { broker: 'run the embedded MQTT broker (aedes), optionally with a local agent' } },
  ...controller,
  { load: async () => (await import('./key.js')).registerKey, verbs: { key: 'create and show ed25519 keys for signed commands' } },
  { load: async () => (await import('./sign.js')).registerSign, verbs: { sign: 'sign a command envelope read on stdin' } },
  { load: async () => (await import('./completion.js')).registerCompletion, verbs: { 'completion <shell>': 'print a shell completion script for verbs and flags (bash or zsh)' } },
];

const nameOf = (usage: string): string => usage.split(' ')[0];

/** The group that registers `verb`, if any. */
export function groupOf(verb: string): VerbGroup | undefined {
  return VERB_GROUPS.find((g) => Object.keys(g.verbs).some((u) => nameOf(u) === verb));
}

/** The first word of argv that is not an option: the verb (`help <verb>` names the verb too). */
export function verbIn(args: readonly string[]): string | undefined {
  const words = args.filter((a) => !a.startsWith('-'));
  return words[0] === 'help' ? words[1] : words[0];
}

/** Registers only the group that owns `verb`; with no known verb, placeholders that list every verb in --help. */
export async function registerVerbs(program: Command, verb: string | undefined): Promise<void> {
  const group = verb === undefined ? undefined : groupOf(verb);
  if (group) return (await group.load())(program);
  for (const g of VERB_GROUPS) for (const [usage, summary] of Object.entries(g.verbs)) program.command(usage).summary(summary);
}
