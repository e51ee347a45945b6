// Our own retained status, read back. A Will of an older connection can reach the broker after our
// "online" (the broker noticed the old link's death late): the retained status then says offline
// while we are here. The incarnation (boot, conn) tells a late Will from another agent using our
// name, as Sparkplug's bdSeq does [cp-presence-3].
import { decodePresence, isNewerOrSame, type Presence } from '../../protocol/index.js';

export type OwnStatusVerdict =
  | { kind: 'fine' } // online or unreadable
  | { kind: 'stale'; other: Presence } // an older incarnation's offline: say online again
  | { kind: 'ours'; other: Presence } // our current incarnation's Will while we are here: say online again
  | { kind: 'impostor'; other: Presence }; // a newer incarnation: another agent publishes as us

export function judgeOwnStatus(payload: Buffer, mine: { boot: number; conn: number }): OwnStatusVerdict {
  const p = decodePresence(payload);
  if (!p || p.online) return { kind: 'fine' };
  // Our own Will while this connection lives: a cluster node that missed our node's heartbeats
  // publishes the Wills of every client it held (aedes _clearWills), live ones included.
  if (p.boot === mine.boot && p.conn === mine.conn) return { kind: 'ours', other: p };
  return isNewerOrSame(p, mine) ? { kind: 'impostor', other: p } : { kind: 'stale', other: p };
}
