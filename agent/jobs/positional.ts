// Positional writes of a chunked upload run beside the foreground queue [cp-dispatch-5]: writes at
// their own offsets commute (pwrite(2) on separate file handles), so a `put` keeping several chunks
// in flight is no longer served one chunk per round trip. A lane of at most four at a time: libuv
// has four file threads by default, and more writes would only queue there, in front of every other
// file operation of the agent (and the DNS lookups its reconnects need).
import { isAbsolute } from 'node:path';

/** Chunked-upload writes running at once, at most. */
export const POSITIONAL_LANE = 4;

/**
 * `wrfile` with `offset` and without `truncate`, to an absolute path or from an absolute `cwd`: a
 * write that no other write's order can change. A relative one depends on the session's directory,
 * which a `cd` still waiting in the foreground queue may change, so it keeps its place there.
 */
export function isPositionalWrite(cmd: string, args: readonly unknown[], opts: unknown, cwd?: string): boolean {
  if (cmd !== 'wrfile' || opts === null || typeof opts !== 'object') return false;
  const o = opts as { offset?: unknown; truncate?: unknown; append?: unknown };
  if (typeof o.offset !== 'number' || o.truncate === true || o.append === true) return false;
  const path = args[0];
  return (typeof path === 'string' && isAbsolute(path)) || (cwd !== undefined && isAbsolute(cwd));
}
