// aedes has no maximum packet size (aedes #831): mqtt-packet buffers a whole packet, however large it
// claims to be, before anyone sees it. This scanner reads only the fixed headers [MQTT-2.2] of the byte
// stream and reports a packet over the limit as soon as its length is known, before its body arrives.

export type GuardVerdict = { ok: true } | { ok: false; reason: string };

export class PacketSizeGuard {
  private state: 'type' | 'length' | 'body' = 'type';
  private length = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  private bodyLeft = 0;

  constructor(private readonly maxPacketBytes: number) {}

  /** Feeds the next chunk of the client's byte stream. */
  feed(chunk: Buffer): GuardVerdict {
    let i = 0;
    while (i < chunk.length) {
      if (this.state === 'body') {
        const n = Math.min(this.bodyLeft, chunk.length - i);
        this.bodyLeft -= n;
        i += n;
        if (this.bodyLeft === 0) this.state = 'type';
      } else if (this.state === 'type') {
        this.state = 'length';
        this.length = 0;
        this.multiplier = 1;
        this.lengthBytes = 0;
        i++;
      } else {
        const b = chunk[i++];
        this.length += (b & 0x7f) * this.multiplier;
        this.multiplier *= 128;
        this.lengthBytes++;
        if (b & 0x80) {
          // [MQTT-2.2.3]: the Remaining Length is at most four bytes.
          if (this.lengthBytes >= 4) return { ok: false, reason: 'malformed remaining length' };
          continue;
        }
        const total = 1 + this.lengthBytes + this.length;
        if (total > this.maxPacketBytes) {
          return { ok: false, reason: `packet of ${total} bytes exceeds the limit of ${this.maxPacketBytes}` };
        }
        this.bodyLeft = this.length;
        this.state = this.bodyLeft > 0 ? 'body' : 'type';
      }
    }
    return { ok: true };
  }
}
