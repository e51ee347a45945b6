// The frame codec [cp-frame-2] [cp-frame-4] and the `out` field [cp-env-13] as pure functions: the
// header layout byte for byte, every malformed shape a decode refuses without throwing, the JSON
// event a frame stands for, and `out` in the text form and in a signature's canonical form.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  FRAME_MAGIC,
  MAX_FRAME_BYTES,
  MAX_FRAME_DATA_BYTES,
  canonicalCommand,
  decodeCommand,
  decodeFrame,
  encodeFrame,
  generateSigningKey,
  jsonOutputData,
  outputBytes,
  signCommand,
  topics,
  trustedKeys,
  verifyCommand,
  type OutputEventT,
} from '../../protocol/index.js';

describe('frames', () => {
  it('[cp-frame-2] lays out magic, header length, stream, flags, 48-bit seq and ts, then the data', () => {
    const f = encodeFrame(1, 1795865085789, 'stdout', Buffer.from('hello\n'));
    // The example of topics.md, byte for byte.
    expect(f.toString('hex')).toBe('c110000000000000000101a221e6875d68656c6c6f0a');
    const big = encodeFrame(2 ** 48 - 1, 2 ** 47, 'update', Buffer.alloc(0));
    expect(big.toString('hex')).toBe('c1100200ffffffffffff800000000000');
  });

  it('[cp-frame-2] decodes what it encodes, the data without a copy', () => {
    const data = randomBytes(1000);
    const d = decodeFrame(encodeFrame(7, 123, 'stderr', data), 'web-1', 'j1');
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    expect(d.value).toMatchObject({ v: 1, type: 'output', host: 'web-1', job: 'j1', seq: 7, ts: 123, stream: 'stderr' });
    expect(outputBytes(d.value).equals(data)).toBe(true);
  });

  it('[cp-frame-2] skips header fields a later format adds before the data', () => {
    const f = Buffer.concat([Buffer.from([FRAME_MAGIC, 20, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 5]), Buffer.from('xxxx'), Buffer.from('data')]);
    const d = decodeFrame(f, 'h', 'j');
    expect(d.ok && d.value.bytes.toString()).toBe('data');
  });

  it('[cp-frame-4] refuses short, oversized, bad-header and unknown-stream frames with a reason, never a throw', () => {
    const header = (hlen: number, stream: number) => Buffer.from([FRAME_MAGIC, hlen, stream, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1]);
    const problem = (p: Buffer) => {
      const d = decodeFrame(p, 'h', 'j');
      return d.ok ? 'ok' : d.problem;
    };
    expect(problem(Buffer.from([FRAME_MAGIC]))).toBe('short');
    expect(problem(header(16, 0).subarray(0, 15))).toBe('short');
    expect(problem(Buffer.concat([header(16, 0), Buffer.alloc(MAX_FRAME_DATA_BYTES + 1)]))).toBe('too-large');
    expect(problem(Buffer.concat([header(16, 0), Buffer.alloc(MAX_FRAME_DATA_BYTES)]))).toBe('ok');
    expect(problem(header(15, 0))).toBe('header');
    expect(problem(header(17, 0))).toBe('header');
    expect(problem(header(16, 3))).toBe('stream');
    expect(problem(header(16, 255))).toBe('stream');
    // Whatever follows the magic byte, decoding answers.
    for (let i = 0; i < 2000; i++) {
      const p = randomBytes(i % 40);
      if (p.length) p[0] = FRAME_MAGIC;
      expect(() => decodeFrame(p, 'h', 'j')).not.toThrow();
    }
    expect(MAX_FRAME_BYTES).toBe(262_144);
  });

  it('[cp-frame-3] the encoder refuses data over the frame limit rather than write a frame that lies', () => {
    expect(() => encodeFrame(1, 1, 'stdout', Buffer.alloc(MAX_FRAME_DATA_BYTES + 1))).toThrow(RangeError);
  });

  it('[cp-evt-3] a decoded frame prints as the JSON event the agent would have written', () => {
    const json = (bytes: Buffer, stream: OutputEventT['stream'] = 'stdout') => {
      const d = decodeFrame(encodeFrame(3, 99, stream, bytes), 'web-1', 'j1');
      if (!d.ok) throw new Error(d.message);
      return JSON.parse(JSON.stringify(d.value));
    };
    const base = { v: 1, host: 'web-1', job: 'j1', seq: 3, ts: 99, type: 'output', stream: 'stdout' };
    expect(json(Buffer.from('héllo\n'))).toEqual({ ...base, data: 'héllo\n' });
    expect(json(Buffer.from([0xff, 0xfe]))).toEqual({ ...base, data: '//4=', enc: 'base64' });
    expect(json(Buffer.from('bell\u0007'))).toEqual({ ...base, data: Buffer.from('bell\u0007').toString('base64'), enc: 'base64' });
    expect(json(Buffer.from('{"step":1}'), 'update')).toEqual({ ...base, stream: 'update', data: '{"step":1}' });
    expect(jsonOutputData(Buffer.from('x'))).toEqual({ data: 'x' });
  });

  it('[cp-evt-3] a spread copy, Object.assign and structuredClone of a decoded frame keep data and enc', () => {
    const d = decodeFrame(encodeFrame(3, 99, 'stdout', Buffer.from([0xff, 0xfe])), 'web-1', 'j1');
    if (!d.ok) throw new Error(d.message);
    for (const copy of [{ ...d.value }, Object.assign({}, d.value), structuredClone(d.value)]) {
      expect(copy).toMatchObject({ seq: 3, stream: 'stdout', data: '//4=', enc: 'base64' });
    }
    expect(d.value.bytes).toEqual(Buffer.from([0xff, 0xfe]));
    const t = decodeFrame(encodeFrame(4, 99, 'stdout', Buffer.from('hi')), 'web-1', 'j1');
    if (!t.ok) throw new Error(t.message);
    expect({ ...t.value }).toMatchObject({ data: 'hi' });
  });

  it('[cp-evt-3] outputBytes reads JSON events too', () => {
    const ev = { v: 1, host: 'h', job: 'j', seq: 1, ts: 1, type: 'output', stream: 'stdout', data: '//4=', enc: 'base64' } as const;
    expect(outputBytes(ev)).toEqual(Buffer.from([0xff, 0xfe]));
  });
});

describe('the out field', () => {
  it('[cp-env-13] is json or raw, in JSON and as a text word', () => {
    expect(decodeCommand(Buffer.from('{"cmd":"ping","out":"raw"}'))).toMatchObject({ ok: true, value: { out: 'raw' } });
    expect(decodeCommand(Buffer.from('id=t1 out=raw exec cat big.log'))).toMatchObject({ ok: true, value: { id: 't1', out: 'raw', cmd: 'exec', args: ['cat', 'big.log'] } });
    expect(decodeCommand(Buffer.from('{"cmd":"ping","out":"binary"}'))).toMatchObject({ ok: false, error: 'BAD_ENVELOPE' });
  });

  it('[cp-sig-3] is signed when present and left out when absent, so older signatures keep their bytes', () => {
    const env = { id: 'j1', cmd: 'ping', sentAt: 5 };
    const topic = topics.cmd('web-1');
    expect(canonicalCommand(env, topic, 'AAAAAAAAAAAAAAAA').toString()).not.toContain('"out"');
    expect(canonicalCommand({ ...env, out: 'raw' }, topic, 'AAAAAAAAAAAAAAAA').toString()).toContain('"out":"raw"');
    const { privateKey, publicKey } = generateSigningKey();
    const keys = trustedKeys([publicKey]);
    const signed = signCommand({ ...env, out: 'raw' as const }, topic, privateKey);
    expect(verifyCommand(signed, topic, keys).ok).toBe(true);
    const { out: _dropped, ...withoutOut } = signed;
    expect(verifyCommand(withoutOut, topic, keys)).toMatchObject({ ok: false, error: 'BAD_SIGNATURE' });
    expect(verifyCommand({ ...signCommand(env, topic, privateKey), out: 'raw' }, topic, keys)).toMatchObject({ ok: false, error: 'BAD_SIGNATURE' });
  });
});
