// Audit append cost per record: the log's design (one synchronous write(2) on a held O_APPEND fd)
// against appendFileSync (open/write/close each time), fdatasync per record (durable='disk') and a
// buffered writer (one write per 64 records, which loses the buffer when the agent dies).
import { appendFileSync, closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { AuditLog } from '../../agent/audit/log.js';
import { digestOf, seal, GENESIS, type AuditEntry } from '../../protocol/audit.js';
import { StateDir } from '../../agent/state/state-dir.js';
import { MAX_TTL_MS } from '../../protocol/index.js';
import { banner } from '../lib/report.js';
import type { Ctx } from './context.js';

const entry = (i: number): AuditEntry => ({
  kind: 'decision',
  accepted: true,
  kid: 'AAAAAAAAAAAAAAAA',
  from: 'ctl-abcdefghijkl',
  cmd: 'exec',
  digest: digestOf(['systemctl', 'restart', `nginx-${i}`], {}),
  target: 'systemctl',
  rule: 'deploy',
  code: 'ALLOWED',
  job: `job${i}`,
});

/** Microseconds per record over n appends. */
function perRecord(n: number, fn: (i: number) => void): number {
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn(i);
  return Number(process.hrtime.bigint() - t) / 1_000 / n;
}

export async function audit(ctx: Ctx): Promise<void> {
  banner('audit');
  const n = ctx.quick ? 2_000 : 20_000;
  const nDisk = ctx.quick ? 100 : 500;
  const dir = (name: string) => join(ctx.tmp, 'audit', name);

  const raw = join(ctx.tmp, 'audit-appendfile.jsonl');
  let prev = GENESIS;
  const appendFile = perRecord(n, (i) => {
    const r = seal(entry(i), i + 1, Date.now(), prev);
    prev = r.hash;
    appendFileSync(raw, JSON.stringify(r) + '\n');
  });

  const held = new AuditLog({ dir: dir('os') });
  const heldFd = perRecord(n, (i) => held.append(entry(i)));
  held.close();

  const disk = new AuditLog({ dir: dir('disk'), durable: 'disk' });
  const fdatasync = perRecord(nDisk, (i) => disk.append(entry(i)));
  disk.close();

  const fd = openSync(join(ctx.tmp, 'audit-buffered.jsonl'), 'a');
  let buf: string[] = [];
  prev = GENESIS;
  const buffered = perRecord(n, (i) => {
    const r = seal(entry(i), i + 1, Date.now(), prev);
    prev = r.hash;
    buf.push(JSON.stringify(r) + '\n');
    if (buf.length === 64) {
      writeSync(fd, buf.join(''));
      buf = [];
    }
  });
  closeSync(fd);

  // The agent's seen-id journal [cp-state-4]: one checksummed append per command, fsynced only for reboot/shutdown.
  const state = new StateDir(dir('journal'), MAX_TTL_MS);
  const job = (i: number, p: string) => ({ id: `${p}${i}`, cmd: 'exec', args: ['systemctl', 'restart', 'nginx'], startedAt: Date.now(), boot: 1 });
  const journal = perRecord(n, (i) => {
    state.begin(job(i, 'j'));
    state.forgetJob(`j${i}`);
  });
  const journalSync = perRecord(nDisk, (i) => {
    state.begin(job(i, 'd'), true);
    state.forgetJob(`d${i}`);
  });
  state.release();

  const base = { unit: 'µs/record', baselineName: 'appendFileSync per record', baseline: appendFile };
  ctx.report.add('audit', { case: 'held fd, one write(2) per record (the design)', figure: heldFd, runs: n, ...base, note: 'in the kernel before the command runs' });
  ctx.report.add('audit', { case: "durable='disk': fdatasync per record", figure: fdatasync, runs: nDisk, ...base, note: 'survives power loss' });
  ctx.report.add('audit', { case: 'journal begin: seen id + running record, then its end (per command)', figure: journal, runs: n, ...base, note: 'survives the agent dying, not a power cut [cp-state-4]' });
  ctx.report.add('audit', { case: 'journal begin fsynced (reboot, shutdown)', figure: journalSync, runs: nDisk, ...base, note: 'survives power loss' });
  ctx.report.add('audit', { case: 'buffered, one write per 64 records', figure: buffered, runs: n, ...base, note: 'loses the buffer if the agent dies: not durable' });
}
