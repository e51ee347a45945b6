// One client that stops reading must never slow anyone else down. aedes delivers every message
// through one emitter with a fixed number of slots (`concurrency`); a write to a full socket holds its
// slot until 'drain', so a subscriber that stops reading (a hung dashboard, or an attacker who keeps
// the link alive with PINGREQ) freezes delivery for every client once the slots are used up
// (moscajs/aedes#1060, whose `drainTimeout` only shortens the freeze to a timeout).
//
// Here a client's writes never report "full" to aedes: its socket buffers them, up to a per-client
// byte bound, and a client that lets more than that pile up unread is disconnected — the publisher and
// the other subscribers never wait for it. Mosquitto makes the same trade with max_queued_messages /
// max_queued_bytes (it drops messages instead; a cut is visible to the client, a gap in a stream is not).
import type { Duplex } from 'node:stream';

/**
 * Makes `stream.write` always report room while at most `maxBytes` are buffered unsent; past that,
 * calls `onOverflow` once (which should destroy the stream).
 */
export function boundUnsent(stream: Duplex, maxBytes: number, onOverflow: (buffered: number) => void): void {
  const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
  let cut = false;
  stream.write = ((...args: unknown[]) => {
    write(...args);
    if (!cut && stream.writableLength > maxBytes) {
      cut = true;
      onOverflow(stream.writableLength);
    }
    // true: aedes then completes the delivery at once instead of holding an emitter slot until 'drain'.
    return true;
  }) as Duplex['write'];
}
