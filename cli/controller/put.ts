// `conplyent put <target> <local> <remote>`: copy a file to every selected host, checksum verified.
import type { Command } from 'commander';
import { put } from '../../controller/transfer.js';
import { defineVerb, targetOf, withFleet } from './common.js';
import { exitFor } from './exit-codes.js';
import { countByOutcome } from './outcome.js';
import { progressBar, transferFailure } from './transfer-progress.js';

export function registerPut(program: Command): void {
  defineVerb(program, 'put <target> <local> <remote>', 'copy a local file to every selected host (any size, binary-safe, sha256 checked)', [
    'conplyent put web-1 ./app.tar.gz /opt/app/app.tar.gz',
    "conplyent put 'web-*' ./nginx.conf /etc/nginx/nginx.conf",
    'conplyent put role=db ./backup.sh /usr/local/bin/backup.sh --json',
  ]).action(async (target: string, local: string, remote: string, _o: unknown, cmd: Command) => {
    await withFleet(cmd, target, async ({ fleet, out, cfg }) => {
      const bar = progressBar(out, `put ${local}`);
      const results = await put(fleet, targetOf(cmd, target), local, remote, { timeoutMs: cfg.timeoutMs, onProgress: bar.update });
      bar.done();
      const s = out.style;
      for (const r of results) {
        if (out.json) out.ndjson({ type: 'final', ...r });
        else if (r.ok) out.stdout.write(`${s.host(r.host)}: ${s.green('ok')} ${r.bytes} bytes, sha256 ${r.sha256}\n`);
        else if (r.state === 'offline') out.stderr.write(`${s.host(r.host)}: ${s.yellow('OFFLINE not sent')}\n`);
        else out.stderr.write(transferFailure(s, r, cfg.timeoutMs, 'per chunk') + '\n');
      }
      const exit = exitFor(results.map((r) => ({ state: r.state })), results.noMatch);
      if (out.json) out.ndjson({ type: 'summary', exit, total: results.length, ...(results.noMatch ? { noMatch: true } : {}) });
      else if (results.noMatch) out.stderr.write(s.red('target matched no known host; nothing was sent') + '\n');
      else if (results.length > 1) out.stderr.write((exit === 0 ? s.green : s.red)(countByOutcome(results.map((r) => ({ host: r.host, outcome: r.ok ? 'ok' : r.state })))) + '\n');
      return exit;
    });
  });
}
