// Command frames [cp-cmdframe-*] as any MQTT client sends them, on aedes and on Mosquitto: a JSON
// header and the raw bytes of an upload chunk. Every rule of a JSON command holds (at most once by
// id, TTL, audit); a malformed frame gets a clear refusal and the agent keeps serving; the
// controller library sends frames to hosts that announce `data` and JSON to the others.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nanoid } from 'nanoid';
import { beforeAll, describe, expect, it } from 'vitest';
import { lines } from '../../agent/audit/files.js';
import { put, type Fleet } from '../../controller/index.js';
import {
  COMMAND_FRAME_MAGIC,
  DATA_FEATURE,
  MAX_COMMAND_BYTES,
  describeData,
  digestOf,
  encodeCommandFrame,
  topics,
} from '../../protocol/index.js';
import { fleetOn } from '../helpers/agent-fixture.js';
import { brokerKinds } from '../helpers/brokers.js';
import { until } from '../helpers/until.js';
import { connectWire, result, type Wire } from '../helpers/wire.js';

const HOST = 'cf-1';
const TERMINAL = new Set(['result', 'error', 'lost']);

/** Bytes that are no UTF-8 and start like both kinds of frame. */
const awkward = () => Buffer.concat([Buffer.from([0xc0, 0xc1, 0x00, 0xff]), randomBytes(200_000)]);

describe.each(brokerKinds())('command frames on %s', (kind) => {
  const f = fleetOn(kind, HOST, { keepaliveSec: 5 });
  let wire: Wire;
  let fleet: Fleet;
  let dir: string;

  beforeAll(() => {
    ({ wire, fleet, dir } = f);
  });

  /** A wrfile chunk of `data` at `offset` of `path`, as a frame; `header` overrides fields. */
  const chunk = (path: string, data: Buffer, offset: number, header: Record<string, unknown> = {}) => {
    const id = (header.id as string | undefined) ?? nanoid();
    const frame = encodeCommandFrame({ id, cmd: 'wrfile', args: [path], opts: { offset, truncate: offset === 0 }, data: describeData(data), ...header }, data);
    return { id, frame };
  };
  const terminal = async (id: string) => (await wire.waitFor((m) => m.topic === topics.job(HOST, id) && TERMINAL.has(m.json?.type), 15_000, `the end of ${id}`)).json;
  const notice = async (pred: (n: any) => boolean, what: string) => (await wire.waitFor((m) => m.topic === topics.errors(HOST) && pred(m.json), 10_000, what)).json;
  const stillServes = async () => expect(result(await wire.run(HOST, { cmd: 'ping' }))).toMatchObject({ type: 'result', code: 0 });

  it('[cp-cmdframe-1] the agent announces command frames in its presence features', () => {
    expect(fleet.host(HOST)?.features).toContain(DATA_FEATURE);
  });

  it('[cp-cmdframe-1] a frame for a fleet target goes on each host\'s own topic, never the fleet topic every agent receives', async () => {
    const path = join(dir, 'by-glob.bin');
    const bytes = awkward();
    const n = wire.messages.length;
    const [r] = await fleet.run('*', 'wrfile', [path], { data: bytes, opts: { offset: 0, truncate: true } }).done();
    expect(r, JSON.stringify(r?.error)).toMatchObject({ host: HOST, state: 'ok' });
    const sent = wire.messages.slice(n).filter((m) => m.topic.endsWith('/cmd'));
    expect(sent.map((m) => m.topic)).toEqual([topics.cmd(HOST)]);
    expect(readFileSync(path).equals(bytes)).toBe(true);
  });

  it('[cp-cmdframe-2] [cp-cmdframe-5] frames write the exact bytes at their offsets, echoed as {bytes, sha256}', async () => {
    const path = join(dir, 'two-chunks.bin');
    const [a, b] = [awkward(), awkward()];
    const first = chunk(path, a, 0);
    wire.send(topics.cmd(HOST), first.frame);
    expect(await terminal(first.id)).toMatchObject({ type: 'result', code: 0, value: { path, bytes: a.length, size: a.length } });
    const second = chunk(path, b, a.length);
    wire.send(topics.cmd(HOST), second.frame);
    expect(await terminal(second.id)).toMatchObject({ type: 'result', code: 0, value: { bytes: b.length, size: a.length + b.length } });
    expect(readFileSync(path).equals(Buffer.concat([a, b]))).toBe(true);
    const accepted = wire.jobEvents(HOST, second.id).find((e) => e.type === 'accepted');
    expect(accepted.args).toEqual([path, describeData(b)]);
    expect(accepted.argsOmitted).toBeUndefined();
  });

  it('[cp-cmdframe-3] [cp-dedupe-1] the same frame again is a duplicate and writes nothing more', async () => {
    const path = join(dir, 'once.bin');
    const c = chunk(path, Buffer.from('first'), 0);
    wire.send(topics.cmd(HOST), c.frame);
    await terminal(c.id);
    writeFileSync(path, 'changed since');
    wire.send(topics.cmd(HOST), c.frame);
    await notice((n) => n.type === 'duplicate' && n.job === c.id, `the duplicate notice of ${c.id}`);
    expect(readFileSync(path, 'utf8')).toBe('changed since');
  });

  it('[cp-cmdframe-3] [cp-env-5] a frame past its TTL is EXPIRED and writes nothing', async () => {
    const path = join(dir, 'expired.bin');
    const c = chunk(path, Buffer.from('late'), 0, { sentAt: Date.now() - 120_000, ttlMs: 1000 });
    wire.send(topics.cmd(HOST), c.frame);
    expect(await terminal(c.id)).toMatchObject({ type: 'error', error: 'EXPIRED' });
    expect(existsSync(path)).toBe(false);
  });

  it('[cp-cmdframe-5] [cp-audit-2] the audit digest names the bytes by their SHA-256, not a copy', async () => {
    const path = join(dir, 'audited.bin');
    const data = awkward();
    const c = chunk(path, data, 0);
    wire.send(topics.cmd(HOST), c.frame);
    await terminal(c.id);
    const decision = [...lines(join(dir, 'state', 'audit'))].map((l) => l.record).find((r) => r?.job === c.id && r.kind === 'decision');
    const sha256 = createHash('sha256').update(data).digest('hex');
    const expected = createHash('sha256').update(JSON.stringify({ args: [path, { bytes: data.length, sha256 }], opts: { offset: 0, truncate: true } })).digest('hex');
    expect(decision).toMatchObject({ accepted: true, cmd: 'wrfile', target: path, digest: expected });
    expect(digestOf([path, { bytes: data.length, sha256 }], { offset: 0, truncate: true })).toBe(expected);
  });

  it('[cp-cmdframe-4] a frame cut inside its prefix or header is MALFORMED on the errors topic; the agent keeps serving', async () => {
    const c = chunk(join(dir, 'cut.bin'), Buffer.from('x'), 0);
    wire.send(topics.cmd(HOST), c.frame.subarray(0, 3));
    expect(await notice((n) => n.error === 'MALFORMED' && /shorter than its 5-byte prefix/.test(n.message), 'the short-prefix notice')).toMatchObject({ type: 'error' });
    wire.send(topics.cmd(HOST), c.frame.subarray(0, 40));
    expect(await notice((n) => n.error === 'MALFORMED' && /past the frame's end/.test(n.message), 'the cut-header notice')).toMatchObject({ type: 'error' });
    const notJson = Buffer.concat([Buffer.from([COMMAND_FRAME_MAGIC, 0, 0, 0, 4]), Buffer.from('ping')]);
    wire.send(topics.cmd(HOST), notJson);
    await notice((n) => n.error === 'MALFORMED' && /must be a JSON object/.test(n.message), 'the text-header notice');
    expect(existsSync(join(dir, 'cut.bin'))).toBe(false);
    await stillServes();
  });

  it('[cp-cmdframe-4] bytes that are not the ones the header declares are BAD_DATA, id not burned; the genuine frame then runs', async () => {
    const path = join(dir, 'tampered.bin');
    const genuine = Buffer.from('the genuine chunk');
    const good = chunk(path, genuine, 0);
    const tampered = encodeCommandFrame({ id: good.id, cmd: 'wrfile', args: [path], opts: { offset: 0, truncate: true }, data: describeData(genuine) }, Buffer.from('the evil chunk!!!'));
    wire.send(topics.cmd(HOST), tampered);
    const n = await notice((x) => x.job === good.id && x.error === 'BAD_DATA', 'the BAD_DATA notice');
    expect(n.message).toMatch(/SHA-256/);
    const short = encodeCommandFrame({ id: good.id, cmd: 'wrfile', args: [path], opts: { offset: 0, truncate: true }, data: describeData(genuine) }, genuine.subarray(1));
    wire.send(topics.cmd(HOST), short);
    await notice((x) => x.job === good.id && x.error === 'BAD_DATA' && /carries 16 bytes; its header says 17/.test(x.message), 'the length notice');
    expect(existsSync(path)).toBe(false);
    expect(wire.jobEvents(HOST, good.id)).toEqual([]);
    wire.send(topics.cmd(HOST), good.frame);
    expect(await terminal(good.id)).toMatchObject({ type: 'result', code: 0 });
    expect(readFileSync(path).equals(genuine)).toBe(true);
  });

  it('[cp-cmdframe-4] [cp-limit-1] a frame over 512 KiB is TOO_LARGE without being read', async () => {
    const big = chunk(join(dir, 'big.bin'), randomBytes(MAX_COMMAND_BYTES), 0);
    wire.send(topics.cmd(HOST), big.frame);
    await notice((n) => n.error === 'TOO_LARGE' && n.message.includes(String(big.frame.length)), 'the TOO_LARGE notice');
    expect(existsSync(join(dir, 'big.bin'))).toBe(false);
    await stillServes();
  });

  it('[cp-cmdframe-3] a header without data, and a JSON command with data, are BAD_ENVELOPE', async () => {
    const id = nanoid();
    const head = Buffer.from(JSON.stringify({ id, cmd: 'wrfile', args: [join(dir, 'nodata.bin')], opts: { offset: 0 } }));
    const prefix = Buffer.from([COMMAND_FRAME_MAGIC, 0, 0, 0, 0]);
    prefix.writeUInt32BE(head.length, 1);
    wire.send(topics.cmd(HOST), Buffer.concat([prefix, head, Buffer.from('bytes')]));
    expect(await terminal(id)).toMatchObject({ type: 'error', error: 'BAD_ENVELOPE', message: expect.stringMatching(/must say which bytes follow/) });
    const evs = await wire.run(HOST, { cmd: 'wrfile', args: [join(dir, 'json.bin'), 'x'], data: describeData(Buffer.from('x')) });
    expect(result(evs)).toMatchObject({ type: 'error', error: 'BAD_ENVELOPE', message: expect.stringMatching(/only a command frame's header carries data/) });
  });

  it('[cp-cmdframe-5] bytes given to a command that takes none, or with an encoding, are BAD_ARGS', async () => {
    const p = encodeCommandFrame({ id: nanoid(), cmd: 'ping', data: describeData(Buffer.from('x')) }, Buffer.from('x'));
    const pingId = JSON.parse(p.subarray(5, 5 + p.readUInt32BE(1)).toString()).id;
    wire.send(topics.cmd(HOST), p);
    expect(await terminal(pingId)).toMatchObject({ type: 'error', error: 'BAD_ARGS' });
    const c = chunk(join(dir, 'enc.bin'), Buffer.from('QUJD'), 0, { opts: { offset: 0, encoding: 'base64' } });
    wire.send(topics.cmd(HOST), c.frame);
    expect(await terminal(c.id)).toMatchObject({ type: 'error', error: 'BAD_ARGS', message: expect.stringMatching(/encoding applies to text data/) });
    await stillServes();
  });

  it('[cp-cmdframe-1] put sends frames to a host that announces them, and JSON to one that does not', async () => {
    const local = join(dir, 'local.bin');
    const bytes = randomBytes(1_200_000);
    writeFileSync(local, bytes);
    const firstByte = (since: number) => wire.messages.slice(since).filter((m) => m.topic === topics.cmd(HOST) && /"wrfile"/.test(m.payload.subarray(0, 600).toString('latin1'))).map((m) => m.payload[0]);

    let since = wire.messages.length;
    const [framed] = await put(fleet, HOST, local, join(dir, 'remote-framed.bin'));
    expect(framed).toMatchObject({ ok: true, bytes: bytes.length });
    expect(readFileSync(join(dir, 'remote-framed.bin')).equals(bytes)).toBe(true);
    expect(new Set(firstByte(since))).toEqual(new Set([COMMAND_FRAME_MAGIC]));

    // The same agent as an older one would announce itself: a newer online status without `data`.
    const status = (await wire.waitFor((m) => m.topic === topics.status(HOST) && m.json?.online === true, 5000, 'the status')).json;
    wire.client.publish(topics.status(HOST), JSON.stringify({ ...status, conn: status.conn + 1, features: ['out', 'fold'] }), { qos: 1, retain: true });
    await until('the controller seeing no data feature', () => fleet.host(HOST)?.features?.includes(DATA_FEATURE) === false, 10_000);
    since = wire.messages.length;
    const [json] = await put(fleet, HOST, local, join(dir, 'remote-json.bin'));
    expect(json).toMatchObject({ ok: true, bytes: bytes.length });
    expect(readFileSync(join(dir, 'remote-json.bin')).equals(bytes)).toBe(true);
    expect(new Set(firstByte(since))).toEqual(new Set(['{'.charCodeAt(0)]));
    expect(() => fleet.run(HOST, 'wrfile', [join(dir, 'x')], { data: bytes.subarray(0, 10) })).toThrow(/do not take command frames/);
  });
});
