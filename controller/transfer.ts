// File transfer on top of wrfile / rdfile / hash: any size, binary-safe (base64 chunks), checked
// with sha256 at the end. Chunks go to every host at once (one publish per chunk for large fleets).
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import { once } from 'node:events';
import { outputBytes, type JobEvent } from '../protocol/index.js';
import type { HostResult } from './collect.js';
import { ControllerError } from './errors.js';
import type { Fleet } from './fleet.js';
import type { Target } from './targets.js';

/** Raw bytes per wrfile chunk: 256 KiB is ~350 KB of base64, well under the 512 KiB command limit. */
export const PUT_CHUNK_BYTES = 256 * 1024;
/** wrfile chunks in flight at once: enough to hide the round trip, few enough to keep memory small. */
const PUT_WINDOW = 4;

export interface TransferProgress {
  bytes: number;
  total: number;
}

export interface TransferOptions {
  /** Per-chunk (put) or whole-file (get) timeout in ms; default 60 s. */
  timeoutMs?: number;
  onProgress?: (p: TransferProgress) => void;
  /** get: the expected size, for a progress bar with a percentage (from `hash` or `ls`). */
  size?: number;
}

export interface PutResult {
  host: string;
  ok: boolean;
  state: HostResult['state'] | 'mismatch';
  bytes: number;
  sha256?: string;
  error?: string;
}

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  const fh = await open(path, 'r');
  try {
    for await (const chunk of fh.createReadStream()) h.update(chunk as Buffer);
  } finally {
    await fh.close().catch(() => {});
  }
  return h.digest('hex');
}

/** Agents may answer `hash` with the hex string or an object holding it; accept either. */
export function sha256Of(value: unknown): string | undefined {
  if (typeof value === 'string' && /^[0-9a-f]{64}$/i.test(value)) return value.toLowerCase();
  if (value && typeof value === 'object') {
    const v = value as Record<string, unknown>;
    for (const k of ['sha256', 'hash', 'digest']) if (typeof v[k] === 'string' && /^[0-9a-f]{64}$/i.test(v[k] as string)) return (v[k] as string).toLowerCase();
  }
  return undefined;
}

function why(r: HostResult): string {
  return r.error?.message ?? (r.code !== null ? `exit code ${r.code}` : r.state);
}

/**
 * Copies a local file to `remote` on every selected host. Hosts drop out at their first failed
 * chunk; the rest are checked with `hash` at the end. Offline hosts are reported, not waited for.
 */
export async function put(fleet: Fleet, target: Target, local: string, remote: string, o: TransferOptions = {}): Promise<PutResult[] & { noMatch?: boolean }> {
  const info = await stat(local).catch((e) => {
    throw new ControllerError('BAD_OPTION', `cannot read ${local}: ${(e as Error).message}`);
  });
  if (!info.isFile()) throw new ControllerError('BAD_OPTION', `${local} is not a regular file`);
  const res = fleet.resolve(target);
  const out = new Map<string, PutResult>();
  for (const h of res.offline) out.set(h, { host: h, ok: false, state: 'offline', bytes: 0, error: `${h} is offline` });
  let live = res.expected.filter((h) => !out.has(h));
  const timeoutMs = o.timeoutMs ?? 60_000;
  const fh = await open(local, 'r');
  const sendChunk = async (offset: number): Promise<number> => {
    const buf = Buffer.alloc(Math.min(PUT_CHUNK_BYTES, Math.max(0, info.size - offset)));
    const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
    if (live.length === 0) return bytesRead;
    const opts = { encoding: 'base64', offset, truncate: offset === 0 };
    const results = await fleet.run(live, 'wrfile', [remote, buf.subarray(0, bytesRead).toString('base64')], { opts, waitMs: timeoutMs, keepOutput: false }).done();
    for (const r of results) if (r.state !== 'ok' && !out.has(r.host)) out.set(r.host, { host: r.host, ok: false, state: r.state, bytes: offset, error: why(r) });
    live = live.filter((h) => !out.has(h));
    return bytesRead;
  };
  try {
    // The first chunk truncates the file, so it must land before any other; after it, chunks are
    // written at their own offsets and can be in flight together.
    let done = await sendChunk(0);
    o.onProgress?.({ bytes: done, total: info.size });
    let next = done;
    const worker = async () => {
      while (next < info.size && live.length > 0) {
        const offset = next;
        next += PUT_CHUNK_BYTES;
        done += await sendChunk(offset);
        o.onProgress?.({ bytes: done, total: info.size });
      }
    };
    await Promise.all(Array.from({ length: PUT_WINDOW }, worker));
  } finally {
    await fh.close();
  }
  if (live.length > 0) {
    const want = await sha256File(local);
    const results = await fleet.run(live, 'hash', [remote], { waitMs: timeoutMs }).done();
    for (const r of results) {
      const got = sha256Of(r.value);
      if (r.state !== 'ok') out.set(r.host, { host: r.host, ok: false, state: r.state, bytes: info.size, error: `hash: ${why(r)}` });
      else if (got !== want) out.set(r.host, { host: r.host, ok: false, state: 'mismatch', bytes: info.size, sha256: got, error: `checksum mismatch: local ${want}, remote ${got ?? '(none)'}` });
      else out.set(r.host, { host: r.host, ok: true, state: 'ok', bytes: info.size, sha256: got });
    }
  }
  const list = [...out.values()].sort((a, b) => a.host.localeCompare(b.host, 'en', { numeric: true })) as PutResult[] & { noMatch?: boolean };
  if (res.noMatch) list.noMatch = true;
  return list;
}

/** A get reports like a put: one host, its state, the bytes moved and the checksum. */
export type GetResult = PutResult;

/**
 * Copies `remote` from one host to `local`, writing chunks in seq order as they stream in (never
 * the whole file in memory); the file appears only when its sha256 matches the host's.
 */
export async function get(fleet: Fleet, host: string, remote: string, local: string, o: TransferOptions = {}): Promise<GetResult> {
  const part = `${local}.part-${process.pid}`;
  const file = createWriteStream(part);
  let writeError: Error | undefined;
  file.on('error', (e) => (writeError ??= e));
  try {
    await once(file, 'open');
  } catch (e) {
    throw new ControllerError('BAD_OPTION', `cannot write ${local}: ${(e as Error).message}`);
  }
  const hash = createHash('sha256');
  let bytes = 0;
  const total = o.size ?? 0;
  let next = 0;
  const pending = new Map<number, JobEvent>();
  let job: ReturnType<Fleet['run']>;
  try {
    job = fleet.run([host], 'rdfile', [remote], { waitMs: o.timeoutMs ?? 600_000, keepOutput: false });
  } catch (e) {
    // A bad host or a closed fleet: nothing was sent, so nothing may be left behind either.
    file.destroy();
    await rm(part, { force: true });
    throw e;
  }
  const take = (ev: JobEvent) => {
    if (ev.type !== 'output' || ev.stream !== 'stdout') return;
    const chunk = outputBytes(ev);
    hash.update(chunk);
    bytes += chunk.length;
    // MQTT cannot be paused per job, and a disk outruns the network: the stream's buffer stays small.
    file.write(chunk);
    o.onProgress?.({ bytes, total });
  };
  // Replays can fill a hole late: write strictly in seq order so the file is never scrambled.
  job.on('event', ({ event }) => {
    pending.set(event.seq, event);
    while (pending.has(next)) {
      take(pending.get(next)!);
      pending.delete(next++);
    }
  });
  const [r] = await job.done();
  file.end();
  if (!file.closed) await once(file, 'close').catch(() => {});
  const fail = async (state: GetResult['state'], error: string): Promise<GetResult> => {
    await rm(part, { force: true });
    return { host, ok: false, state, bytes, error };
  };
  if (!r) return fail('offline', `${host} is not known to this controller`);
  if (r.state !== 'ok') return fail(r.state, why(r));
  if (writeError) return fail('error', `cannot write ${local}: ${writeError.message}`);
  if (pending.size > 0 || r.gap) return fail('error', `output has a gap: ${r.gap?.droppedEvents ?? pending.size} events missing`);
  const got = hash.digest('hex');
  const want = sha256Of(r.value);
  if (want !== got) return fail('mismatch', `checksum mismatch: ${host} says ${want ?? '(none)'}, received ${got}`);
  await rename(part, local);
  return { host, ok: true, state: 'ok', bytes, sha256: got };
}
