// A subscriber that stops reading: a raw TCP client that CONNECTs, SUBSCRIBEs to a filter at QoS 1 and
// then never reads its socket again, so the broker's writes to it back up. One such client stalled
// every other client of an aedes broker until the broker learned to cut it (Mosquitto drops or
// disconnects it instead). Hand-made MQTT 3.1.1 packets (OASIS mqtt-v3.1.1 §3.1, §3.8): no client
// library that would keep reading for us.
import { createConnection, type Socket } from 'node:net';

const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);

/** Fixed header + body; the bodies here stay under 128 bytes, so the remaining length is one byte. */
function packet(first: number, body: Buffer): Buffer {
  if (body.length > 127) throw new RangeError('stalled subscriber packets must stay under 128 bytes');
  return Buffer.concat([Buffer.from([first, body.length]), body]);
}

/** CONNECT: protocol "MQTT" level 4, clean session, keepalive 0 (the broker never times it out). */
function connect(clientId: string): Buffer {
  const id = Buffer.from(clientId);
  return packet(0x10, Buffer.concat([u16(4), Buffer.from('MQTT'), Buffer.from([4, 0x02]), u16(0), u16(id.length), id]));
}

function subscribe(filter: string): Buffer {
  const f = Buffer.from(filter);
  return packet(0x82, Buffer.concat([u16(1), u16(f.length), f, Buffer.from([1])]));
}

export interface StalledSubscriber {
  /** Ends the socket (the broker may have cut it already). */
  close(): void;
}

/** Connects, subscribes, and never reads. */
export function stalledSubscriber(port: number, clientId: string, filter = 'conplyent/#'): StalledSubscriber {
  const s: Socket = createConnection({ host: '127.0.0.1', port });
  s.on('error', () => {}); // the broker cutting it off is the expected end
  s.once('connect', () => {
    s.write(connect(clientId));
    s.write(subscribe(filter));
    // Read nothing, ever: the kernel's receive buffer fills, then the broker's send queue.
    s.pause();
  });
  return { close: () => s.destroy() };
}
