// File transfer on top of wrfile / rdfile / hash: any size, binary-safe, checked with sha256 at the
// end. Chunks go to every host at once (one publish per chunk for large fleets): as command frames
// to hosts that take them [cp-cmdframe-*], as base64 in JSON to older agents.
import { createHash } from 'node:crypto';
import { createWriteStream, type BigIntStats } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import { once } from 'node:events';
import { DATA_FEATURE, MAX_COMMAND_BYTES, outputBytes, type JobEvent } from '../protocol/index.js';
import type { HostResult } from './collect.js';
import { ControllerError } from './errors.js';
import { OrderedHash } from './ordered-hash.js';
import type { Fleet } from './fleet.js';
import type { Target } from './targets.js';
import { compareHosts } from './host-order.js';

/** Raw bytes per wrfile chunk in JSON: 256 KiB is ~350 KB of base64, well under the 512 KiB command limit. */
export const PUT_CHUNK_BYTES = 256 * 1024;
/**
 * Raw bytes per chunk in a command frame: the command limit less 64 KiB for the header (a path and
 * a cwd of up to 4096 characters, the signature): 448 KiB, 1.75 times a JSON chunk's bytes.
 */
export const PUT_FRAME_CHUNK_BYTES = MAX_COMMAND_BYTES - 64 * 1024;
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

/**
 * How the local file changed while it was read (`readSize` bytes, from a file opened as `opened`), or
 * undefined. The remote is checked against what was sent, so a file written in place during the
 * upload (a log, a build output) would otherwise leave a torn copy reported as ok; rsync warns the
 * same way ("file has vanished", "changed during transfer").
 */
function changeOf(readSize: number, opened: BigIntStats, now: BigIntStats): string | undefined {
  if (BigInt(readSize) !== now.size) return `size ${readSize} → ${now.size} bytes`;
  if (opened.mtimeNs !== now.mtimeNs) return 'modified';
  return undefined;
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
  const framed = (h: string) => fleet.allUnderstand([h], DATA_FEATURE);
  const chunkBytes = live.every(framed) ? PUT_FRAME_CHUNK_BYTES : PUT_CHUNK_BYTES;
  const sent = new OrderedHash();
  const fh = await open(local, 'r');
  const before = await fh.stat({ bigint: true });
  let changed: string | undefined;
  const sendChunk = async (offset: number): Promise<number> => {
    const buf = Buffer.allocUnsafe(Math.min(chunkBytes, Math.max(0, info.size - offset)));
    const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
    if (live.length === 0) return bytesRead;
    const data = buf.subarray(0, bytesRead);
    sent.add(offset, data);
    const opts = { offset, truncate: offset === 0 };
    const common = { waitMs: timeoutMs, keepOutput: false };
    const inFrames = live.filter(framed);
    const inJson = live.filter((h) => !framed(h));
    const runs: Promise<HostResult[]>[] = [];
    if (inFrames.length > 0) runs.push(fleet.run(inFrames, 'wrfile', [remote], { ...common, opts, data }).done());
    // A host that stopped taking frames mid-upload (an older agent put back) cannot take a frame-sized chunk in JSON.
    if (inJson.length > 0 && data.length > PUT_CHUNK_BYTES) for (const h of inJson) out.set(h, { host: h, ok: false, state: 'error', bytes: offset, error: `${h} stopped taking command frames during the upload` });
    else if (inJson.length > 0) runs.push(fleet.run(inJson, 'wrfile', [remote, data.toString('base64')], { ...common, opts: { ...opts, encoding: 'base64' } }).done());
    for (const r of (await Promise.all(runs)).flat()) if (r.state !== 'ok' && !out.has(r.host)) out.set(r.host, { host: r.host, ok: false, state: r.state, bytes: offset, error: why(r) });
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
        next += chunkBytes;
        done += await sendChunk(offset);
        o.onProgress?.({ bytes: done, total: info.size });
      }
    };
    await Promise.all(Array.from({ length: PUT_WINDOW }, worker));
    changed = changeOf(info.size, before, await fh.stat({ bigint: true }));
  } finally {
    await fh.close();
  }
  if (live.length > 0) {
    // What was sent, hashed as it was read; the file again only when that was cut short.
    const want = sent.digest(info.size) ?? (await sha256File(local));
    const results = await fleet.run(live, 'hash', [remote], { waitMs: timeoutMs }).done();
    for (const r of results) {
      const got = sha256Of(r.value);
      if (r.state !== 'ok') out.set(r.host, { host: r.host, ok: false, state: r.state, bytes: info.size, error: `hash: ${why(r)}` });
      else if (changed) out.set(r.host, { host: r.host, ok: false, state: 'mismatch', bytes: info.size, sha256: got, error: `${local} changed during the upload (${changed}): ${r.host} has what was read, which may mix old and new contents; run put again` });
      else if (got !== want) out.set(r.host, { host: r.host, ok: false, state: 'mismatch', bytes: info.size, sha256: got, error: `checksum mismatch: sent ${want}, remote ${got ?? '(none)'}` });
      else out.set(r.host, { host: r.host, ok: true, state: 'ok', bytes: info.size, sha256: got });
    }
  }
  const list = [...out.values()].sort((a, b) => compareHosts(a.host, b.host)) as PutResult[] & { noMatch?: boolean };
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
