// The fixed-header scanner that enforces maxPacketBytes before a packet body is buffered.
import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { PacketSizeGuard } from '../../broker/packet-guard.js';

const publish = (bytes: number) => mqttPacket.generate({ cmd: 'publish', topic: 't', payload: Buffer.alloc(bytes), qos: 0, dup: false, retain: false });

describe('packet size guard', () => {
  it('passes packets up to the limit, split across chunks anywhere', () => {
    const stream = Buffer.concat([publish(10), publish(200), publish(0), publish(1000)]);
    for (const cut of [1, 2, 3, 7, 64, 500]) {
      const guard = new PacketSizeGuard(1003 + 3);
      for (let i = 0; i < stream.length; i += cut) expect(guard.feed(stream.subarray(i, i + cut)).ok).toBe(true);
    }
  });

  it('reports an oversized packet from its header alone', () => {
    const header = publish(10 * 1024 * 1024).subarray(0, 5);
    const verdict = new PacketSizeGuard(1024 * 1024).feed(header);
    expect(verdict).toEqual({ ok: false, reason: expect.stringMatching(/exceeds the limit of 1048576/) });
  });

  it('reports a remaining length longer than four bytes as malformed', () => {
    expect(new PacketSizeGuard(1 << 30).feed(Buffer.from([0x30, 0x80, 0x80, 0x80, 0x80, 0x01])).ok).toBe(false);
  });
});
