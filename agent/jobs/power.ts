// The one place the agent reboots or powers off its host. Kept tiny and injectable: the agent core
// takes a PowerFn, tests pass a recording one, so no test can ever reboot the machine.
import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

export type PowerAction = 'reboot' | 'shutdown';

/** Reboots or powers off the host after `delaySec` seconds; what AgentServices.power delegates to. */
export type PowerFn = (action: PowerAction, delaySec?: number) => Promise<void>;

/** Commands to try in order for an action on a platform (any failure falls through to the next). */
export function powerCommands(action: PowerAction, platform: NodeJS.Platform = process.platform): Array<[string, string[]]> {
  const reboot = action === 'reboot';
  switch (platform) {
    case 'win32':
      return [['shutdown', [reboot ? '/r' : '/s', '/t', '0']]];
    case 'linux':
      return reboot
        ? [['systemctl', ['reboot']], ['shutdown', ['-r', 'now']], ['reboot', []]]
        : [['systemctl', ['poweroff']], ['shutdown', ['-h', 'now']], ['poweroff', []]];
    case 'darwin':
      return [['shutdown', [reboot ? '-r' : '-h', 'now']]];
    default:
      // BSDs: -p powers off where -h would only halt.
      return [['shutdown', [reboot ? '-r' : '-p', 'now']]];
  }
}

function run(file: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: 30_000, windowsHide: true }, (err, _stdout, stderr) => {
      if (!err) return resolve();
      const detail = String(stderr).trim();
      reject(Object.assign(new Error(`${file} ${args.join(' ')} failed: ${detail || err.message}`), { code: (err as NodeJS.ErrnoException).code }));
    });
  });
}

/**
 * The real OS call. Waits `delaySec` seconds (at least 1, so the command's result event is published
 * first), then runs the platform's command; rejects with the last failure when none worked.
 *
 * @example
 *   createAgent({ power: defaultPower })            // production
 *   createAgent({ power: async (a) => calls.push(a) }) // tests
 */
export const defaultPower: PowerFn = async (action, delaySec = 0) => {
  await sleep(Math.max(delaySec, 1) * 1000);
  let last: unknown;
  for (const [file, args] of powerCommands(action)) {
    try {
      await run(file, args);
      return;
    } catch (err) {
      // Next candidate: the program may be missing, or systemctl present without systemd running.
      last = err;
    }
  }
  throw last;
};
