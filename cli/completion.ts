// `conplyent completion bash|zsh`: a completion script for the verbs and their flags, generated from
// the commands themselves so it never lists a flag that does not exist. zsh loads the bash one
// through bashcompinit (part of zsh since 4.3), which keeps one script to maintain.
import { Command } from 'commander';
import { usageExit } from './usage-exit.js';
import { VERB_GROUPS } from './verbs.js';

/** Every verb with its flags: the CLI registers only the verb it runs, so the script loads them all. */
async function everyVerb(): Promise<Command> {
  const all = new Command('conplyent');
  for (const g of VERB_GROUPS) (await g.load())(all);
  return all;
}

function flagsOf(cmd: Command): string[] {
  return cmd.options.flatMap((o) => [o.short, o.long].filter((f): f is string => !!f)).concat('--help');
}

export function bashScript(program: Command): string {
  const verbs = program.commands.map((c) => c.name());
  const cases = program.commands.map((c) => `    ${c.name()}) opts="${flagsOf(c).join(' ')}" ;;`).join('\n');
  return `# conplyent completion for bash: eval "$(conplyent completion bash)"
_conplyent() {
  local cur=\${COMP_WORDS[COMP_CWORD]} opts
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "${verbs.join(' ')} --help --version" -- "$cur"))
    return
  fi
  case \${COMP_WORDS[1]} in
${cases}
    *) opts="" ;;
  esac
  if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W "$opts" -- "$cur")); else COMPREPLY=($(compgen -f -- "$cur")); fi
}
complete -F _conplyent conplyent
`;
}

export function registerCompletion(program: Command): void {
  usageExit(
    program
      .command('completion <shell>')
      .description('print a shell completion script for verbs and flags (bash or zsh)')
      .addHelpText('after', '\nExamples:\n  eval "$(conplyent completion bash)"      # in ~/.bashrc\n  eval "$(conplyent completion zsh)"       # in ~/.zshrc'),
  ).action(async (shell: string) => {
    if (shell === 'bash') process.stdout.write(bashScript(await everyVerb()));
    else if (shell === 'zsh') process.stdout.write(`# conplyent completion for zsh: eval "$(conplyent completion zsh)"\nautoload -U +X bashcompinit && bashcompinit\n${bashScript(await everyVerb())}`);
    else {
      process.stderr.write(`conplyent completion: unknown shell "${shell}"; use bash or zsh\n`);
      process.exit(2);
    }
  });
}
