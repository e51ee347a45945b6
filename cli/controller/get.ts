// `conplyent get <host> <remote> <local>`: copy a file from one host, checksum verified.
import type { Command } from 'commander';
import { get } from '../../controller/transfer.js';
import { defineVerb, withFleet } from './common.js';
import { exitFor } from './exit-codes.js';
import { progressBar } from './transfer-progress.js';

export function registerGet(program: Command): void {
  defineVerb(program, 'get <host> <remote> <local>', 'copy a file from a host to a local path (streamed, binary-safe, sha256 checked)', [
    'conplyent get web-1 /var/log/syslog ./web-1.syslog',
    'conplyent get db-1 /var/backups/db.dump ./db.dump --timeout 3600',
  ]).action(async (host: string, remote: string, local: string, _o: unknown, cmd: Command) => {
    await withFleet(cmd, async ({ fleet, out, cfg }) => {
      const known = fleet.host(host);
      const bar = progressBar(out, `get ${host}:${remote}`);
      const r = await get(fleet, host, remote, local, { timeoutMs: cfg.timeoutMs, onProgress: bar.update });
      bar.done();
      const s = out.style;
      if (out.json) out.ndjson({ type: 'final', ...r });
      else if (r.ok) out.stdout.write(`${s.host(host)}: ${s.green('ok')} ${r.bytes} bytes to ${local}, sha256 ${r.sha256}\n`);
      else out.stderr.write(`${s.host(host)}: ${s.red(r.state.toUpperCase())} ${r.error ?? ''}\n`);
      const exit = exitFor([r], !known);
      if (out.json) out.ndjson({ type: 'summary', exit, total: 1 });
      return exit;
    });
  });
}
