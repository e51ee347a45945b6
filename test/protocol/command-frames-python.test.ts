// The Python command frame builder of topics.md (cframe.py), run as printed: its frames, sent by
// mosquitto_pub -s as the page shows, write the exact bytes on a real agent; piped through sign.py
// with --header first, they run on an agent that requires signed commands.
// Without python3 (or, for the signed case, its cryptography module) a suite is skipped with one
// line, except in CI where it fails.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { generateSigningKey, privateKeyPem, publicKeyText, topics } from '../../protocol/index.js';
import { agentOnAedes, type AgentFixture } from '../helpers/agent-fixture.js';

const python = spawnSync('python3', ['-c', 'import cryptography'], { encoding: 'utf8', timeout: 30_000 });
const hasPython = spawnSync('python3', ['-c', 'import json'], { timeout: 30_000 }).status === 0;
const hasCrypto = python.status === 0;
const hasPub = existsSync('/usr/bin/mosquitto_pub');
if (!hasPython || !hasCrypto || !hasPub) {
  const why = !hasPub ? 'mosquitto_pub is missing' : `python3${hasPython ? ' with the cryptography module' : ''} is missing`;
  if (process.env.CI === 'true') throw new Error(`${why}: CI must run the Python command frame examples of topics.md`);
  console.warn(`${why}: Python command frame examples skipped where they need it`);
}

const doc = readFileSync(fileURLToPath(new URL('../../topics.md', import.meta.url)), 'utf8');
function docScript(name: string): string {
  const m = doc.match(new RegExp('```python\\n(# ' + name.replace('.', '\\.') + ' [\\s\\S]*?)```'));
  if (!m) throw new Error(`topics.md has no python block starting with "# ${name}"`);
  return m[1];
}

const TERMINAL = new Set(['result', 'error', 'lost']);

/** `python3 SCRIPT args < input`, as the page's pipelines run it; stdout as bytes. */
function py(f: AgentFixture, name: string, args: string[], input: Buffer | string): Buffer {
  const file = join(f.dir, name);
  writeFileSync(file, docScript(name));
  const r = spawnSync('python3', [file, ...args], { input, timeout: 30_000, maxBuffer: 4 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${name} failed: ${r.stderr.toString()}`);
  return r.stdout;
}

/** mosquitto_pub -q 1 -t TOPIC -s < frame, against the fixture's broker (in this process: never spawnSync). */
function pub(f: AgentFixture, topic: string, frame: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('mosquitto_pub', ['-p', String(f.broker.port), '-h', '127.0.0.1', '-q', '1', '-t', topic, '-s'], { stdio: ['pipe', 'ignore', 'pipe'], timeout: 30_000 });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`mosquitto_pub exited ${code}: ${err}`))));
    child.stdin.end(frame);
  });
}

async function end(f: AgentFixture, host: string, id: string): Promise<any> {
  return (await f.wire.waitFor((m) => m.topic === topics.job(host, id) && TERMINAL.has(m.json?.type), 15_000, `the end of ${id}`)).json;
}

describe.skipIf(!hasPython || !hasPub)('cframe.py of topics.md, sent by mosquitto_pub -s', () => {
  const f = agentOnAedes('cfpy-1');

  it('[cp-cmdframe-2] writes the exact bytes, two chunks at their offsets, and refuses a header that describes other bytes', async () => {
    const [part0, part1] = [randomBytes(300_000), Buffer.concat([Buffer.from([0xc0, 0, 0xff]), randomBytes(100_000)])];
    writeFileSync(join(f.dir, 'part0'), part0);
    writeFileSync(join(f.dir, 'part1'), part1);
    const target = join(f.dir, 'disk.img');
    const h0 = { id: 'up0', cmd: 'wrfile', args: [target], opts: { offset: 0, truncate: true } };
    await pub(f, topics.cmd('cfpy-1'), py(f, 'cframe.py', [join(f.dir, 'part0')], JSON.stringify(h0)));
    expect(await end(f, 'cfpy-1', 'up0')).toMatchObject({ type: 'result', code: 0, value: { bytes: part0.length } });
    const h1 = { id: 'up1', cmd: 'wrfile', args: [target], opts: { offset: part0.length }, ttlMs: 60_000 };
    await pub(f, topics.cmd('cfpy-1'), py(f, 'cframe.py', [join(f.dir, 'part1')], JSON.stringify(h1)));
    expect(await end(f, 'cfpy-1', 'up1')).toMatchObject({ type: 'result', code: 0 });
    expect(readFileSync(target).equals(Buffer.concat([part0, part1]))).toBe(true);
    const file = join(f.dir, 'cframe.py');
    const wrong = spawnSync('python3', [file, join(f.dir, 'part1')], { input: JSON.stringify({ ...h1, data: { bytes: 1, sha256: '0'.repeat(64) } }), timeout: 30_000 });
    expect(wrong.status).not.toBe(0);
    expect(wrong.stderr.toString()).toContain('the header describes other bytes');
  });
});

const ops = generateSigningKey();
describe.skipIf(!hasPython || !hasCrypto || !hasPub)('cframe.py --header | sign.py | cframe.py, on an agent that requires signatures', () => {
  const f = agentOnAedes('cfpy-2', { trustedKeys: [publicKeyText(ops.privateKey)], requireSigned: true });

  it('[cp-cmdframe-3] the signed frame runs; the same header on other bytes is BAD_DATA and writes nothing', async () => {
    const keyFile = join(f.dir, 'ops.key');
    writeFileSync(keyFile, privateKeyPem(ops.privateKey), { mode: 0o600 });
    const data = randomBytes(200_000);
    const part = join(f.dir, 'part');
    writeFileSync(part, data);
    const target = join(f.dir, 'signed.img');
    const topic = topics.cmd('cfpy-2');
    const header = py(f, 'cframe.py', [part, '--header'], JSON.stringify({ id: 'sup1', cmd: 'wrfile', args: [target], opts: { offset: 0, truncate: true }, ttlMs: 60_000 }));
    const signedHeader = py(f, 'sign.py', [keyFile, topic], header);
    const frame = py(f, 'cframe.py', [part], signedHeader);
    // A copy of the signed header carrying other bytes first: refused, nothing written, id not burned.
    writeFileSync(join(f.dir, 'evil'), randomBytes(200_000));
    const h = JSON.parse(signedHeader.toString());
    const forged = Buffer.concat([frame.subarray(0, frame.length - data.length), readFileSync(join(f.dir, 'evil'))]);
    await pub(f, topic, forged);
    const n = await f.wire.waitFor((m) => m.topic === topics.errors('cfpy-2') && m.json?.job === h.id, 10_000, 'the BAD_DATA notice');
    expect(n.json.error).toBe('BAD_DATA');
    expect(existsSync(target)).toBe(false);
    await pub(f, topic, frame);
    expect(await end(f, 'cfpy-2', h.id)).toMatchObject({ type: 'result', code: 0, value: { bytes: data.length } });
    expect(readFileSync(target).equals(data)).toBe(true);
  });
});
