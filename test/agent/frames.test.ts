// Compact output frames [cp-frame-*] as any MQTT client sees them, on aedes and on Mosquitto: a
// command with `out: "raw"` gets its output as frames carrying the exact bytes, between JSON events
// numbered in one sequence; replay repeats them byte for byte; the controller library asks for them
// by default, and drops a malformed frame with a counted reason while the job goes on.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent, type Agent } from '../../agent/index.js';
import { connect, type Fleet } from '../../controller/index.js';
import { FRAME_MAGIC, MAX_FRAME_BYTES, decodeFrame, type DroppedFrame, type OutputFrame } from '../../protocol/index.js';
import { brokerKinds, startBrokerKind, type TestBroker } from '../helpers/brokers.js';
import { until } from '../helpers/until.js';
import { connectWire, result, type Wire, type WireEvent } from '../helpers/wire.js';

const HOST = 'raw-1';
/** 'a€', cut inside the euro sign's three bytes: the first frame ends mid-character. */
const SPLIT_TEXT = 'a€ and more €€€ after the cut\n';
/** An emoji's high surrogate is the 65,536th UTF-16 unit: a cut there splits the pair. */
const LONG_UPDATE = 'a'.repeat(65_535) + '😀'.repeat(8);

describe.each(brokerKinds())('output frames on %s', (kind) => {
  let broker: TestBroker;
  let wire: Wire;
  let fleet: Fleet;
  let agent: Agent;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cp-frames-'));
    broker = await startBrokerKind(kind);
    wire = await connectWire(broker.controllerUrl);
    agent = createAgent({ broker: broker.url, name: HOST, stateDir: join(dir, 'state'), keepaliveSec: 5 });
    agent.registerBackgroundCommand('split', async (ctx) => {
      const bytes = Buffer.from(SPLIT_TEXT);
      await ctx.write('stdout', bytes.subarray(0, 3));
      await ctx.write('stdout', bytes.subarray(3));
    });
    agent.registerBackgroundCommand('progress', async (ctx) => {
      for (let i = 1; i <= 2; i++) await ctx.update({ step: i });
      await ctx.write('stdout', 'done\n');
    });
    // An update longer than one chunk, with emoji (surrogate pairs) across the 65,536-unit cut.
    agent.registerBackgroundCommand('long-update', async (ctx) => {
      await ctx.update(LONG_UPDATE);
    });
    // A plugin may fill one buffer again once write() resolved: what went out must not change.
    agent.registerBackgroundCommand('reuse', async (ctx) => {
      const buf = Buffer.alloc(1000);
      for (const c of 'abc') await ctx.write('stdout', buf.fill(c));
    });
    await agent.start();
    fleet = await connect(broker.controllerUrl);
    await until('the agent online in presence', () => fleet.host(HOST)?.online === true, 10_000);
  });

  afterAll(async () => {
    await fleet?.close();
    await agent?.stop();
    await wire?.close();
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const onJob = (id: string): WireEvent[] => wire.messages.filter((m) => m.topic === `conplyent/${HOST}/job/${id}`);
  const isFrame = (m: WireEvent) => m.payload[0] === FRAME_MAGIC;
  const framesOf = (id: string): OutputFrame[] =>
    onJob(id)
      .filter(isFrame)
      .map((m) => {
        const f = decodeFrame(m.payload, HOST, id);
        if (!f.ok) throw new Error(`frame of ${id} does not decode: ${f.message}`);
        return f.value;
      });
  const streamBytes = (id: string, stream = 'stdout') =>
    Buffer.concat(
      framesOf(id)
        .filter((f) => f.stream === stream)
        .sort((a, b) => a.seq - b.seq)
        .map((f) => f.bytes),
    );

  it('[cp-frame-1] [cp-frame-2] [cp-evt-1] text output comes as frames between the JSON accepted and result, in one seq', async () => {
    const evs = await wire.run(HOST, { id: 'fr-text', cmd: 'exec', args: ['sh', '-c', 'for i in $(seq 1 3000); do echo "line $i"; done; echo oops >&2'], out: 'raw' });
    const msgs = onJob('fr-text');
    expect(msgs[0].payload[0]).toBe('{'.charCodeAt(0));
    expect(msgs[0].json).toMatchObject({ type: 'accepted', seq: 0 });
    const frames = framesOf('fr-text');
    const res = result(evs);
    expect(msgs.filter((m) => !isFrame(m)).map((m) => m.json.type)).toEqual(['accepted', 'result']);
    // Frames fill the seqs between accepted (0) and result, with no hole and no repeat.
    expect(frames.map((f) => f.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: frames.length }, (_, i) => i + 1));
    expect(res).toMatchObject({ code: 0, seq: frames.length + 1, events: frames.length });
    const expected = Array.from({ length: 3000 }, (_, i) => `line ${i + 1}\n`).join('');
    expect(streamBytes('fr-text').toString()).toBe(expected);
    expect(streamBytes('fr-text', 'stderr').toString()).toBe('oops\n');
    for (const m of msgs) expect(m.payload.length).toBeLessThanOrEqual(MAX_FRAME_BYTES);
  });

  it('[cp-frame-2] random binary and zeros arrive as the exact bytes, without base64', async () => {
    const file = join(dir, 'random.bin');
    const random = randomBytes(700_000);
    writeFileSync(file, random);
    await wire.run(HOST, { id: 'fr-rand', cmd: 'exec', args: ['cat', file], out: 'raw' });
    expect(streamBytes('fr-rand').equals(random)).toBe(true);
    const wireBytes = onJob('fr-rand').filter(isFrame).reduce((n, m) => n + m.payload.length, 0);
    expect(wireBytes).toBe(random.length + 16 * framesOf('fr-rand').length);

    await wire.run(HOST, { id: 'fr-zero', cmd: 'exec', args: ['head', '-c', '500000', '/dev/zero'], out: 'raw' });
    expect(streamBytes('fr-zero').equals(Buffer.alloc(500_000))).toBe(true);
  });

  it('[cp-frame-3] stdout and stderr written at once, each past a full frame, keep their own bytes', async () => {
    const [out, err] = [randomBytes(400_000), randomBytes(300_000)];
    writeFileSync(join(dir, 'both.out'), out);
    writeFileSync(join(dir, 'both.err'), err);
    await wire.run(HOST, { id: 'fr-both', cmd: 'exec', args: ['sh', '-c', 'cat both.out & cat both.err >&2; wait'], cwd: dir, out: 'raw' });
    expect(streamBytes('fr-both').equals(out)).toBe(true);
    expect(streamBytes('fr-both', 'stderr').equals(err)).toBe(true);
  });

  it('[cp-frame-2] UTF-8 cut inside a character by the chunking arrives whole, and --json shows it as JSON events would', async () => {
    await wire.run(HOST, { id: 'fr-utf8', cmd: 'split', out: 'raw' });
    const frames = framesOf('fr-utf8');
    expect(frames.map((f) => f.bytes.length)).toEqual([3, Buffer.byteLength(SPLIT_TEXT) - 3]);
    expect(streamBytes('fr-utf8').toString('utf8')).toBe(SPLIT_TEXT);
    // A chunk that is not valid UTF-8 goes into a JSON event as base64 [cp-evt-3]; its frame prints the same.
    expect(JSON.parse(JSON.stringify(frames[0]))).toEqual({ v: 1, host: HOST, job: 'fr-utf8', seq: 1, ts: frames[0].ts, type: 'output', stream: 'stdout', data: Buffer.from(SPLIT_TEXT).subarray(0, 3).toString('base64'), enc: 'base64' });
  });

  it('[cp-frame-2] update output is a frame of stream 2 holding the update text', async () => {
    await wire.run(HOST, { id: 'fr-upd', cmd: 'progress', out: 'raw' });
    const frames = framesOf('fr-upd');
    expect(frames.map((f) => [f.stream, f.bytes.toString()])).toEqual([
      ['update', '{"step":1}'],
      ['update', '{"step":2}'],
      ['stdout', 'done\n'],
    ]);
    expect(onJob('fr-upd').filter(isFrame).map((m) => m.payload[2])).toEqual([2, 2, 0]);
  });

  it('[cp-frame-2] a long update is cut between characters, never inside a surrogate pair: its frames are lossless', async () => {
    await wire.run(HOST, { id: 'fr-long-upd', cmd: 'long-update', out: 'raw' });
    const frames = framesOf('fr-long-upd').filter((f) => f.stream === 'update');
    expect(frames.length).toBe(2);
    expect(streamBytes('fr-long-upd', 'update').toString('utf8')).toBe(LONG_UPDATE);
  });

  it('[cp-frame-3] a buffer the command reuses after write() resolved does not change what went out', async () => {
    await wire.run(HOST, { id: 'fr-reuse', cmd: 'reuse', out: 'raw' });
    expect(streamBytes('fr-reuse').toString()).toBe('a'.repeat(1000) + 'b'.repeat(1000) + 'c'.repeat(1000));
  });

  it('[cp-replay-1] replay of a raw job republishes its frames and JSON events byte for byte', async () => {
    const before = onJob('fr-text').map((m) => m.payload);
    await wire.run(HOST, { id: 'fr-replay', cmd: 'replay', args: ['fr-text', 0] });
    await until('every replayed event', () => onJob('fr-text').length === 2 * before.length, 10_000);
    const again = onJob('fr-text').slice(before.length).map((m) => m.payload);
    expect(again.map((p) => p.toString('hex'))).toEqual(before.map((p) => p.toString('hex')));
  });

  it('[cp-env-13] without `out` output events stay JSON, as mosquitto_sub and Node-RED users read them', async () => {
    const evs = await wire.run(HOST, { id: 'fr-json', cmd: 'exec', args: ['printf', 'plain'] });
    expect(onJob('fr-json').some(isFrame)).toBe(false);
    expect(evs.find((e) => e.type === 'output')).toMatchObject({ stream: 'stdout', data: 'plain' });
  });

  it('[cp-env-13] the controller library asks for frames from hosts that list them, and JSON when told to', async () => {
    expect(fleet.host(HOST)?.features).toContain('out');
    const [raw] = await fleet.run(HOST, 'exec', ['printf', 'via frames'], { id: 'fr-lib-raw' }).done();
    expect(raw.stdout.toString()).toBe('via frames');
    // The test's own subscriber is another client: its copy may arrive after the library's.
    await until('the frame on the test subscriber', () => onJob('fr-lib-raw').some(isFrame), 5_000);
    expect(onJob('fr-lib-raw').filter(isFrame)).toHaveLength(1);
    const [json] = await fleet.run(HOST, 'exec', ['printf', 'via json'], { id: 'fr-lib-json', out: 'json' }).done();
    expect(json.stdout.toString()).toBe('via json');
    await until('the output event on the test subscriber', () => onJob('fr-lib-json').some((m) => m.json?.type === 'output'), 5_000);
    expect(onJob('fr-lib-json').some(isFrame)).toBe(false);
    expect(onJob('fr-lib-json').find((m) => m.json.type === 'output')?.json.data).toBe('via json');
  });

  it('[cp-frame-4] a malformed or oversized frame is dropped, counted and reported; the job goes on', async () => {
    const drops: DroppedFrame[] = [];
    fleet.on('droppedFrame', (d) => drops.push(d));
    // The job waits for its input, so it is still followed when the bad frames arrive.
    const job = fleet.run(HOST, 'exec', ['sh', '-c', 'read line; echo "$line"'], { id: 'fr-bad' });
    await job.started;
    const topic = `conplyent/${HOST}/job/fr-bad`;
    const header = (hlen: number, stream: number) => Buffer.from([FRAME_MAGIC, hlen, stream, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 1]);
    wire.send(topic, Buffer.from([FRAME_MAGIC, 16, 0]));
    wire.send(topic, Buffer.concat([header(16, 7), Buffer.from('x')]));
    wire.send(topic, header(200, 0));
    wire.send(topic, Buffer.concat([header(16, 0), Buffer.alloc(MAX_FRAME_BYTES)]));
    await until('four dropped frames', () => drops.length === 4, 10_000);
    expect(drops.map((d) => d.problem).sort()).toEqual(['header', 'short', 'stream', 'too-large']);
    expect(drops[0]).toMatchObject({ host: HOST, job: 'fr-bad' });
    expect(fleet.droppedFrames()).toEqual({ short: 1, stream: 1, header: 1, 'too-large': 1 });
    await job.input('done\n');
    const [r] = await job.done();
    expect(r).toMatchObject({ state: 'ok', code: 0 });
    expect(r.stdout.toString()).toBe('done\n');
  });
});
