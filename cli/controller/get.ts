// `conplyent get <host> <remote> <local>`: copy a file from one host, checksum verified.
import type { Command } from 'commander';
import type { Fleet } from '../../controller/fleet.js';
import { get } from '../../controller/transfer.js';
import { defineVerb, oneHost, withFleet } from './common.js';
import { exitFor } from './exit-codes.js';
import { progressBar, transferFailure } from './transfer-progress.js';

/**
 * The file's size, for a percentage: `rdfile length=0` reads nothing and returns `{size}` (`hash`
 * would read the whole file first). Only on a TTY, where a bar is drawn; undefined when unknown.
 */
async function remoteSize(fleet: Fleet, host: string, remote: string, waitMs: number): Promise<number | undefined> {
  const [r] = await fleet.run([host], 'rdfile', [remote], { opts: { length: 0 }, waitMs, ttlMs: waitMs, keepOutput: false }).done();
  const size = (r?.value as { size?: unknown } | undefined)?.size;
  return typeof size === 'number' ? size : undefined;
}

export function registerGet(program: Command): void {
  defineVerb(program, 'get <host> <remote> <local>', 'copy a file from a host to a local path (streamed, binary-safe, sha256 checked)', [
    'conplyent get web-1 /var/log/syslog ./web-1.syslog',
    'conplyent get db-1 /var/backups/db.dump ./db.dump --timeout 3600',
  ]).action(async (host: string, remote: string, local: string, _o: unknown, cmd: Command) => {
    await withFleet(cmd, host, async ({ fleet, out, cfg }) => {
      oneHost(cmd, host);
      const known = fleet.host(host);
      const bar = progressBar(out, `get ${host}:${remote}`);
      const size = out.tty ? await remoteSize(fleet, host, remote, cfg.timeoutMs) : undefined;
      const r = await get(fleet, host, remote, local, { timeoutMs: cfg.timeoutMs, onProgress: bar.update, ...(size !== undefined ? { size } : {}) });
      bar.done();
      const s = out.style;
      if (out.json) out.ndjson({ type: 'final', ...r });
      else if (r.ok) out.stdout.write(`${s.host(host)}: ${s.green('ok')} ${r.bytes} bytes to ${local}, sha256 ${r.sha256}\n`);
      else out.stderr.write(transferFailure(s, { ...r, host }, cfg.timeoutMs, 'for the whole file') + '\n');
      const exit = exitFor([r], !known);
      if (out.json) out.ndjson({ type: 'summary', exit, total: 1 });
      return exit;
    });
  });
}
