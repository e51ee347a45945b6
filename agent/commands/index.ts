// The Conplyent Shell: every built-in command, registered through the same API custom commands use.
import type { CommandRegistry } from '../registry.js';
import { registerAuditCommand } from './audit.js';
import { registerFileCommands } from './files.js';
import { registerFileDataCommands } from './file-data.js';
import { registerJobCommands } from './jobs.js';
import { registerProcessCommands } from './process.js';
import { registerSystemCommands } from './system.js';

export { killTree, terminateTree, treeAlive } from '../jobs/tree-kill.js';

/**
 * Registers cd, cwd, ls, mkdir, rm, touch, wrfile, hash, rdfile, exec, jobs, kill, is_alive, send_input, replay, ping, os_info, user_name, reboot, shutdown, close_server, audit.
 * Returns what closes the files they hold open (an upload's, between its chunks) when the agent stops.
 */
export function registerBuiltins(registry: CommandRegistry): () => Promise<void> {
  registerFileCommands(registry);
  const uploads = registerFileDataCommands(registry);
  registerProcessCommands(registry);
  registerJobCommands(registry);
  registerSystemCommands(registry);
  registerAuditCommand(registry);
  return () => uploads.closeAll();
}
