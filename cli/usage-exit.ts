// Commander exits 1 on its own usage errors (unknown option, missing argument); the binary's usage
// errors are 2 everywhere (docs/controller.md), so commands that are not controller verbs opt in here.
import type { Command } from 'commander';

export function usageExit(cmd: Command): Command {
  return cmd.exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));
}
