// `conplyent broker user add|remove|list`: manages the embedded broker's users file.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { Option, type Command } from 'commander';
import { ConfigError, resolveConfig } from './config.js';

const ROLES = ['agent', 'controller', 'observer'];

/** Default users file when none is configured: system-wide for root, per user otherwise. */
export function defaultUsersFile(): string {
  return process.getuid?.() === 0 ? '/etc/conplyent/users.json' : join(homedir(), '.config', 'conplyent', 'users.json');
}

async function usersFileOf(cmd: Command): Promise<string> {
  const cfg = await resolveConfig('broker', cmd.optsWithGlobals());
  return cfg.usersFile ?? defaultUsersFile();
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) {
    // Prompt without echoing what is typed.
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    const out = rl as unknown as { _writeToOutput(s: string): void };
    process.stderr.write('password: ');
    out._writeToOutput = () => undefined;
    const line = await new Promise<string>((res) => rl.question('', res));
    rl.close();
    process.stderr.write('\n');
    return line;
  }
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function passwordFor(opts: { passwordFile?: string }): Promise<string> {
  let pw: string;
  if (opts.passwordFile) {
    try {
      pw = await readFile(opts.passwordFile, 'utf8');
    } catch (err) {
      throw new ConfigError(`flag --password-file: cannot read ${opts.passwordFile} (${(err as NodeJS.ErrnoException).code})`);
    }
  } else if (process.env.CONPLYENT_PASSWORD) {
    pw = process.env.CONPLYENT_PASSWORD;
  } else {
    pw = await readStdin();
  }
  pw = pw.replace(/\r?\n$/, '');
  if (pw.length === 0) throw new ConfigError('password: empty (give --password-file, env CONPLYENT_PASSWORD or type it on stdin)');
  return pw;
}

function asConfigError(err: unknown): never {
  // The users-file library throws TypeErrors naming the bad name or role; they are user input errors.
  if (err instanceof TypeError) throw new ConfigError(err.message);
  throw err;
}

// On each leaf, so they may follow the verb: `broker user add web-1 --users f` (positional options).
function fileOptions(cmd: Command): Command {
  return cmd
    .option('--users <file>', 'users file (env CONPLYENT_SERVER_USERS; default /etc/conplyent/users.json as root, else ~/.config/conplyent/users.json)')
    .option('--config <file>', 'JSON config file whose server.usersFile names the users file');
}

export function registerUserCommands(brokerCmd: Command): void {
  const user = brokerCmd
    .command('user')
    .description('manage the users file of the embedded broker (hashed passwords and roles)')
    .addHelpText(
      'after',
      `
Roles: agent (its own topics only; user name = host name), controller (send commands, read all),
observer (read only).

Examples:
  conplyent broker user add web-1 --role agent --password-file web-1.pw --users users.json
  conplyent broker user list --users users.json
  conplyent broker user remove web-1 --users users.json`,
    );

  fileOptions(user.command('add <name>'))
    .description('add a user, or replace its role and password')
    .addOption(new Option('--role <role>', 'what the user may do').choices(ROLES).makeOptionMandatory())
    .option('--password-file <file>', 'read the password from this file (else env CONPLYENT_PASSWORD, else stdin)')
    .addHelpText(
      'after',
      `
An agent's user name must be its host name (the ACL lets it use only conplyent/<name>/...).

Examples:
  conplyent broker user add web-1 --role agent --password-file web-1.pw
  echo 's3cret' | conplyent broker user add ops --role controller --users ./users.json`,
    )
    .action(async (name: string, opts: { role: string; passwordFile?: string }, self: Command) => {
      const file = await usersFileOf(self);
      const { addUser, checkUserName } = await import('../broker/users-file.js');
      // Check the name before asking for a password nobody can use.
      try {
        checkUserName(name, opts.role as 'agent');
      } catch (err) {
        asConfigError(err);
      }
      const password = await passwordFor(opts);
      await addUser(file, name, opts.role as 'agent', password).catch(asConfigError);
      process.stdout.write(`user ${name} (${opts.role}) saved in ${file}\n`);
    });

  fileOptions(user.command('remove <name>'))
    .description('remove a user')
    .addHelpText('after', '\nExample:\n  conplyent broker user remove web-1 --users ./users.json')
    .action(async (name: string, _o: unknown, self: Command) => {
      const file = await usersFileOf(self);
      const { removeUser } = await import('../broker/users-file.js');
      if (!(await removeUser(file, name))) throw new ConfigError(`user ${name}: no such user in ${file}`);
      process.stdout.write(`user ${name} removed from ${file}\n`);
    });

  fileOptions(user.command('list'))
    .description('list users and roles (never passwords)')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  conplyent broker user list --users ./users.json')
    .action(async (opts: { json?: boolean }, self: Command) => {
      const file = await usersFileOf(self);
      const { listUsers } = await import('../broker/users-file.js');
      const users = await listUsers(file);
      if (opts.json) process.stdout.write(JSON.stringify(users) + '\n');
      else for (const u of users) process.stdout.write(`${u.name}\t${u.role}\n`);
    });
}
