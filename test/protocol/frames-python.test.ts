// The Python frame decoder of topics.md, run as printed on what a real agent published for a job
// asked with out=raw, fed as `mosquitto_sub -F '%x'` prints it (one lower-case hex payload a line).
// Without python3 the suite is skipped with one line, except in CI where it fails.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { agentOnAedes } from '../helpers/agent-fixture.js';

const python = spawnSync('python3', ['-c', 'import json, sys'], { encoding: 'utf8', timeout: 30_000 });
const hasPython = python.status === 0;
if (!hasPython) {
  const why = `python3 is missing (${(python.error?.message ?? python.stderr).trim().split('\n').pop()})`;
  if (process.env.CI === 'true') throw new Error(`${why}: CI must run the Python frame decoder of topics.md`);
  console.warn(`${why}: Python frame decoder skipped`);
}

const doc = readFileSync(fileURLToPath(new URL('../../topics.md', import.meta.url)), 'utf8');
const script = doc.match(/```python\n(# frames\.py[\s\S]*?)```/)?.[1];

describe.skipIf(!hasPython)('the Python frame decoder of topics.md', () => {
  const f = agentOnAedes('py-1');

  it('[cp-frame-2] writes exactly the bytes the program wrote, and names the JSON events', async () => {
    expect(script, 'a python block starting with "# frames.py"').toBeDefined();
    const file = join(f.dir, 'frames.py');
    writeFileSync(file, script!);
    const random = randomBytes(300_000);
    writeFileSync(join(f.dir, 'random.bin'), random);
    const evs = await f.wire.run('py-1', { id: 'py-raw', cmd: 'exec', args: ['sh', '-c', `printf 'é日本\\n'; cat ${join(f.dir, 'random.bin')}; echo to-stderr >&2`], out: 'raw' });
    const payloads = f.wire.messages.filter((m) => m.topic === 'conplyent/py-1/job/py-raw').map((m) => m.payload);
    // A QoS 1 redelivery of the first frame: the decoder drops it by seq [cp-evt-1].
    const lines = [...payloads.slice(0, 2), payloads[1], ...payloads.slice(2)].map((p) => p.toString('hex')).join('\n') + '\n';
    const run = spawnSync('python3', [file], { input: lines, timeout: 30_000, maxBuffer: 16 * 1024 * 1024 });
    expect(run.status, run.stderr?.toString()).toBe(0);
    expect(run.stdout.equals(Buffer.concat([Buffer.from('é日本\n'), random]))).toBe(true);
    const last = evs[evs.length - 1];
    expect(run.stderr.toString()).toContain('accepted seq=0\n');
    expect(run.stderr.toString()).toContain(`result seq=${last.seq}\n`);
    expect(run.stderr.toString()).toContain('to-stderr\n');
  });
});
