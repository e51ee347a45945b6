// Custom commands, the way the original's @register_command / @register_background_command worked.
// Load into any agent:  conplyent agent --plugin dist/examples/custom-commands.js
// Then from anywhere:   mosquitto_pub -t conplyent/<host>/cmd -m 'id=g1 greet ops'
//                       conplyent run <host> disk_usage /var
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { CommandError, type Agent } from '../agent/index.js';

export default function register(agent: Agent): void {
  // Foreground: runs in order with the other foreground commands; its return value is the result.
  agent.registerCommand('greet', (ctx) => `hello ${ctx.args[0]} from ${ctx.host}`, {
    args: z.tuple([z.coerce.string()]),
    usage: '<name>',
    summary: 'Says hello (example custom command)',
  });

  // Background: a job beside the others, with live updates, killable through its abort signal.
  agent.registerBackgroundCommand(
    'disk_usage',
    async (ctx) => {
      const root = resolve(ctx.cwd, ctx.args[0] ?? '.');
      let bytes = 0;
      let files = 0;
      const walk = async (dir: string): Promise<void> => {
        for (const entry of await readdir(dir, { withFileTypes: true })) {
          if (ctx.signal.aborted) throw new CommandError('CANCELLED', 'disk_usage was cancelled');
          const p = join(dir, entry.name);
          if (entry.isDirectory()) await walk(p);
          else if (entry.isFile()) {
            bytes += (await stat(p)).size;
            if (++files % 1000 === 0) await ctx.update({ files, bytes });
          }
        }
      };
      try {
        await walk(root);
      } catch (err) {
        if (err instanceof CommandError) throw err;
        throw new CommandError('PATH', `disk_usage ${root}: ${(err as Error).message}`);
      }
      return { path: root, files, bytes };
    },
    { args: z.tuple([z.coerce.string()]).or(z.tuple([])), usage: '[path]', summary: 'Sums file sizes below a directory, with progress updates' },
  );
}
