// Seeded fuzzing of a real agent over a real aedes broker: at least 10,000 hostile payloads on its
// command topics (random bytes, truncated and deeply nested JSON, wrong types in every envelope field,
// sizes around each limit of protocol/limits.ts, invalid UTF-8, pathological selectors and ids,
// prototype-named keys). Promise: no crash, no uncaught exception, the agent still answers a ping.
// Reproduce a run with CONPLYENT_FUZZ_SEED=<the printed seed>.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeCommand, MAX_COMMAND_BYTES, MAX_JSON_DEPTH, MAX_NAME_LENGTH, MAX_TTL_MS, topics } from '../../protocol/index.js';
import { agentOnAedes } from '../helpers/agent-fixture.js';
import { result } from '../helpers/wire.js';

const HOST = 'fuzz-1';
const COUNT = Number(process.env.CONPLYENT_FUZZ_COUNT ?? 10_000);
const SEED = Number(process.env.CONPLYENT_FUZZ_SEED ?? Date.now() % 2 ** 31);
/** Commands that only read: a payload that happens to decode to anything else is never sent. */
const SAFE = new Set(['ping', 'cwd', 'jobs', 'os_info', 'user_name']);

/** mulberry32: small, fast, and the same sequence for the same seed on every machine. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function generators(rnd: () => number) {
  const int = (n: number) => Math.floor(rnd() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));
  const weird = [
    '', ' ', '/', '+', '#', '$SYS', '\u0000', '..', '../../etc/passwd', '_all', 'a'.repeat(MAX_NAME_LENGTH), 'a'.repeat(MAX_NAME_LENGTH + 1),
    '-rf', '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '\ud800', '💥', 'a b', 'x=y', '"', '\\', '\n',
  ];
  const values = [null, true, false, 0, -1, 1.5, 2 ** 53, -(2 ** 53), NaN, 1e308, MAX_TTL_MS, MAX_TTL_MS + 1, '', 'x', [], {}, [[]], { a: {} }, ...weird];
  const base = () => ({ id: `f${int(1e9)}`, cmd: 'ping', args: [] as unknown[], opts: {} as Record<string, unknown> });
  const fields = ['v', 'id', 'cmd', 'args', 'opts', 'from', 'sentAt', 'ttlMs', 'timeoutMs', 'cwd', 'target', 'sig', 'extra', '__proto__', 'constructor', 'prototype'];
  const nest = (depth: number, open: string, close: string, leaf = '1') => open.repeat(depth) + leaf + close.repeat(depth);
  const selector = () =>
    pick([
      '*'.repeat(int(2000) + 1),
      Array.from({ length: int(200) + 1 }, () => 'a*').join('') + 'b',
      Array.from({ length: int(300) + 1 }, () => `role=${pick(weird)}`).join(','),
      '('.repeat(int(5000)),
      pick(weird),
      'x'.repeat(1024),
      'x'.repeat(1025),
      `${'!'.repeat(int(100))}web-*`,
    ]);
  const json = (o: unknown) => Buffer.from(JSON.stringify(o));

  /** [topic, payload]; each kind is one family of the brief. */
  const kinds: Record<string, () => [string, Buffer]> = {
    randomBytes: () => [topics.cmd(HOST), bytes(int(2048))],
    invalidUtf8: () => [topics.cmd(HOST), Buffer.concat([Buffer.from('{"cmd":"ping","id":"'), pick([Buffer.from([0xc3]), Buffer.from([0xff, 0xfe]), Buffer.from([0xed, 0xa0, 0x80]), bytes(8)]), Buffer.from('"}')])],
    truncatedJson: () => {
      const full = JSON.stringify({ ...base(), args: [pick(values)], opts: { a: pick(values) }, sentAt: Date.now(), ttlMs: 1000 });
      return [topics.cmd(HOST), Buffer.from(full.slice(0, int(full.length)))];
    },
    deepJson: () => {
      const depth = pick([MAX_JSON_DEPTH - 2, MAX_JSON_DEPTH - 1, MAX_JSON_DEPTH, MAX_JSON_DEPTH + 1, 1000, 10_001]);
      const where = pick(['v', 'args', 'opts', 'id']);
      const inner = where === 'args' ? `[${nest(depth, '[', ']')}]` : where === 'opts' ? `{"a":${nest(depth, '{"a":', '}')}}` : nest(depth, '{"v":', '}');
      return [topics.cmd(HOST), Buffer.from(`{"id":"deep${int(1e6)}","cmd":"ping","${where}":${inner}}`)];
    },
    wrongTypes: () => {
      const o: Record<string, unknown> = base();
      for (let i = 0; i <= int(3); i++) Object.defineProperty(o, pick(fields), { value: pick(values), enumerable: true, configurable: true, writable: true });
      return [pick([topics.cmd(HOST), topics.fleetCmd()]), json(o)];
    },
    sizes: () => {
      // Around the command limit rarely (each is half a MiB), around the smaller limits often.
      if (rnd() < 0.02) {
        const target = pick([MAX_COMMAND_BYTES - 1, MAX_COMMAND_BYTES, MAX_COMMAND_BYTES + 1]);
        const prefix = `{"id":"s${int(1e6)}","cmd":"ping","args":["`;
        return [topics.cmd(HOST), Buffer.from(`${prefix}${'x'.repeat(target - prefix.length - 3)}"]}`)];
      }
      const n = pick([4095, 4096, 4097]);
      return [
        topics.cmd(HOST),
        json(
          pick([
            { ...base(), args: Array(n).fill(0) },
            { ...base(), from: 'f'.repeat(pick([128, 129])) },
            { ...base(), cwd: 'c'.repeat(pick([4096, 4097])) },
            { ...base(), sig: 's'.repeat(pick([4096, 4097])) },
            { ...base(), sentAt: Date.now(), ttlMs: pick([MAX_TTL_MS, MAX_TTL_MS + 1, 0, 1]) },
            { ...base(), timeoutMs: pick([0, 1, 2 ** 31, 2 ** 53]) },
          ]),
        ),
      ];
    },
    idsAndNames: () => {
      const o = { ...base(), id: pick([...weird, 'a'.repeat(64), 'a'.repeat(65), `${'-'.repeat(10)}x`]), cmd: pick([...weird, 'p'.repeat(64), 'p'.repeat(65)]) };
      return [topics.cmd(HOST), json(o)];
    },
    selectors: () => [topics.fleetCmd(), json({ ...base(), target: selector() })],
    textCommands: () => {
      const words = Array.from({ length: int(8) }, () => pick([...weird, 'ping', 'id=t1', `target=${selector()}`, 'ttlMs=-1', 'sentAt=x', 'v=2', '"unterminated', "'q", '--', 'a=b=c']));
      return [pick([topics.cmd(HOST), topics.fleetCmd()]), Buffer.from(words.join(' '))];
    },
    prototypeKeys: () => {
      const key = pick(['__proto__', 'constructor', 'prototype']);
      const where = pick([`{"id":"p${int(1e6)}","cmd":"ping","opts":{"${key}":{"shell":true}}}`, `{"cmd":"ping","${key}":{}}`, `{"id":"q${int(1e6)}","cmd":"ping","args":[{"${key}":1}]}`, `${key}=1 ping`]);
      return [topics.cmd(HOST), Buffer.from(where)];
    },
  };
  return { kinds, pick, int };
}

describe('fuzzing the agent over the wire', () => {
  const powerCalls: string[] = [];
  const f = agentOnAedes(HOST, { power: async (action) => void powerCalls.push(action) });
  const uncaught: unknown[] = [];
  const onUncaught = (e: unknown) => uncaught.push(e);

  beforeAll(() => {
    process.on('uncaughtException', onUncaught);
    process.on('unhandledRejection', onUncaught);
  });
  afterAll(() => {
    process.off('uncaughtException', onUncaught);
    process.off('unhandledRejection', onUncaught);
  });

  it(`survives ${COUNT} seeded hostile payloads and still answers a ping`, async () => {
    console.log(`fuzz seed ${SEED} (rerun with CONPLYENT_FUZZ_SEED=${SEED})`);
    const rnd = prng(SEED);
    const { kinds, pick } = generators(rnd);
    const names = process.env.CONPLYENT_FUZZ_KINDS?.split(',') ?? Object.keys(kinds);
    const sent: Record<string, number> = {};
    let skipped = 0;
    const rssBefore = process.memoryUsage().rss;
    const started = Date.now();
    let batch: Promise<unknown>[] = [];
    for (let n = 0; n < COUNT; ) {
      const kind = pick(names);
      const [topic, payload] = kinds[kind]!();
      // Never let chance build a real command that does something (rm, wrfile, exec, reboot...).
      const d = decodeCommand(payload);
      if (d.ok && !SAFE.has(d.value.cmd)) {
        skipped++;
        continue;
      }
      batch.push(f.wire.client.publishAsync(topic, payload, { qos: 1 }));
      sent[kind] = (sent[kind] ?? 0) + 1;
      n++;
      if (batch.length >= 200) {
        await Promise.all(batch);
        batch = [];
      }
    }
    await Promise.all(batch);
    // The agent handles its commands in order: once this ping is answered, every payload before it was read.
    const pong = result(await f.wire.run(HOST, { id: 'after-fuzz', cmd: 'ping' }, 60_000));
    const rssAfter = process.memoryUsage().rss;
    const answers = f.wire.messages.filter((m) => m.topic.startsWith(`conplyent/${HOST}/job/`) || m.topic === topics.errors(HOST)).length;
    console.log(
      `fuzz: ${COUNT} payloads in ${Date.now() - started} ms (${JSON.stringify(sent)}; ${skipped} skipped as runnable), ` +
        `${answers} answers, RSS ${(rssBefore / 2 ** 20).toFixed(0)} -> ${(rssAfter / 2 ** 20).toFixed(0)} MiB (+${((rssAfter - rssBefore) / 2 ** 20).toFixed(1)})`,
    );
    expect(pong).toMatchObject({ type: 'result', code: 0 });
    expect(uncaught).toEqual([]);
    expect(powerCalls).toEqual([]);
    // [cp-err-1]: the 10,000-deep `v` and prototype keys got answers, not silence.
    expect(f.wire.messages.some((m) => m.topic === topics.errors(HOST) && /deeper than 64 levels/.test(m.json?.message))).toBe(true);
  }, 120_000);
});
