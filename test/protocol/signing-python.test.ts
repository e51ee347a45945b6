// The Python examples of topics.md ("A copy-paste session", signed commands) run as printed, with
// the `cryptography` package: what Python signs, protocol/signing.ts verifies, and the reverse.
// Without python3 or the module the suite is skipped with one line, except in CI where it fails.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  canonicalCommand,
  decodeCommand,
  generateSigningKey,
  keyId,
  privateKeyPem,
  publicKeyText,
  signCommand,
  signEvent,
  topics,
  trustedKeys,
  verifyCommand,
  type CommandInput,
} from '../../protocol/index.js';

const python = spawnSync('python3', ['-c', 'import cryptography'], { encoding: 'utf8', timeout: 30_000 });
const hasPython = python.status === 0;
if (!hasPython) {
  const why = `python3 with the cryptography module is missing (${(python.error?.message ?? python.stderr).trim().split('\n').pop()})`;
  if (process.env.CI === 'true') throw new Error(`${why}: CI must run the Python signing examples (apt-get install python3-cryptography)`);
  console.warn(`${why}: Python signing examples skipped`);
}

const doc = readFileSync(fileURLToPath(new URL('../../topics.md', import.meta.url)), 'utf8');
/** The fenced python block of topics.md whose first line is `# <name>`. */
function docScript(name: string): string {
  const m = doc.match(new RegExp('```python\\n(# ' + name.replace('.', '\\.') + ' [\\s\\S]*?)```'));
  if (!m) throw new Error(`topics.md has no python block starting with "# ${name}"`);
  return m[1];
}

const dir = mkdtempSync(join(tmpdir(), 'cp-sign-py-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const ops = generateSigningKey();
const keyFile = join(dir, 'ops.key');
writeFileSync(keyFile, privateKeyPem(ops.privateKey), { mode: 0o600 });
const WEB = topics.cmd('web-1');

function py(script: string, args: string[], input: string) {
  const file = join(dir, script.split('\n')[0].slice(2).split(' ')[0]);
  writeFileSync(file, script);
  return spawnSync('python3', [file, ...args], { input, encoding: 'utf8', timeout: 30_000 });
}

/** Values where a careless canonical form would differ: escapes, non-ASCII, nesting, key order, big and negative integers. */
const TRICKY: CommandInput = {
  v: 1,
  cmd: 'exec',
  args: ['sh', '-c', 'printf "%s\\n" "é 日本 😀" \'q"\\\\\'', '\u0001\u001f\u007f\u2028', -0, 9007199254740991, -42],
  opts: { env: { Z: 'z', A: 'a', '10': 'ten', '9': 'nine', é: 'e' }, shell: false, nested: [{ b: null, a: [true, false] }] },
  from: 'ops-laptop',
  ttlMs: 60_000,
  timeoutMs: 10_000,
  cwd: '/tmp/ü',
  target: 'role=web',
};

describe.skipIf(!hasPython)('Python signs, Node verifies (topics.md sign.py)', () => {
  it('[cp-sig-3] a command signed by sign.py verifies with verifyCommand for its topic, id and sentAt filled', () => {
    // session and out are signed when present [cp-env-12] [cp-env-13].
    for (const env of [{ cmd: 'exec', args: ['uptime'], ttlMs: 60000 }, TRICKY, { cmd: 'exec', args: ['cat', 'big.log'], session: 'alice', out: 'raw' }]) {
      const r = py(docScript('sign.py'), [keyFile, WEB], JSON.stringify(env));
      expect(r.stderr).toBe('');
      expect(r.stdout.trim().split('\n')).toHaveLength(1); // one line: mosquitto_pub -l sends it as one message
      const d = decodeCommand(Buffer.from(r.stdout));
      if (!d.ok) throw new Error(d.message);
      expect(d.value.id).toMatch(/^[0-9a-f]{20}$/);
      expect(d.value.sentAt).toBeGreaterThan(1_700_000_000_000);
      expect(verifyCommand(d.value, WEB, trustedKeys([ops.publicKey]))).toEqual({ ok: true, kid: keyId(ops.publicKey) });
      // Bound to its topic, like any signed command [cp-sig-6].
      expect(verifyCommand(d.value, topics.cmd('db-1'), trustedKeys([ops.publicKey]))).toMatchObject({ ok: false, error: 'BAD_SIGNATURE' });
    }
  });

  it("[cp-sig-3] Python's json.dumps(sort_keys, separators, ensure_ascii=False) is byte for byte canonicalCommand", () => {
    const env = { ...TRICKY, id: 'j1', sentAt: 1795574204257 };
    const script = [
      '# canon.py',
      'import json, sys',
      'env, topic, kid = json.load(sys.stdin), sys.argv[1], sys.argv[2]',
      "obj = {'ctx': 'conplyent-cmd/1', 'topic': topic, 'kid': kid}",
      "for f in ('v', 'id', 'cmd', 'args', 'opts', 'from', 'sentAt', 'ttlMs', 'timeoutMs', 'cwd', 'target'):",
      "    obj[f] = env.get(f, [] if f == 'args' else {} if f == 'opts' else None)",
      "sys.stdout.write(json.dumps(obj, sort_keys=True, separators=(',', ':'), ensure_ascii=False).encode().hex())",
    ].join('\n');
    const r = py(script, [WEB, 'AAAAAAAAAAAAAAAA'], JSON.stringify(env));
    expect(r.stderr).toBe('');
    expect(Buffer.from(r.stdout, 'hex').toString('utf8')).toBe(canonicalCommand(env, WEB, 'AAAAAAAAAAAAAAAA').toString('utf8'));
  });
});

describe.skipIf(!hasPython)('Node signs, Python verifies', () => {
  it('[cp-sig-3] a command signed by signCommand verifies in Python with the cryptography package', () => {
    const signed = signCommand({ ...TRICKY, id: 'n1', sentAt: Date.now() }, WEB, ops.privateKey);
    const script = [
      '# verify_cmd.py',
      'import base64, json, sys',
      'from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey',
      'env, topic, raw = json.load(sys.stdin), sys.argv[1], base64.b64decode(sys.argv[2])',
      "sig = env.pop('sig')",
      "obj = {'ctx': 'conplyent-cmd/1', 'topic': topic, 'kid': sig['kid']}",
      "for f in ('v', 'id', 'cmd', 'args', 'opts', 'from', 'sentAt', 'ttlMs', 'timeoutMs', 'cwd', 'target'):",
      "    obj[f] = env.get(f, [] if f == 'args' else {} if f == 'opts' else None)",
      "data = json.dumps(obj, sort_keys=True, separators=(',', ':'), ensure_ascii=False).encode()",
      "Ed25519PublicKey.from_public_bytes(raw).verify(base64.b64decode(sig['value']), data)",
      "print('genuine')",
    ].join('\n');
    const ok = py(script, [WEB, publicKeyText(ops.publicKey)], JSON.stringify(signed));
    expect(ok.stderr).toBe('');
    expect(ok.stdout).toBe('genuine\n');
    const forged = py(script, [WEB, publicKeyText(ops.publicKey)], JSON.stringify({ ...signed, cwd: '/' }));
    expect(forged.status).not.toBe(0);
    expect(forged.stderr).toMatch(/InvalidSignature/);
  });

  it('[cp-sig-8] a result signed by signEvent verifies with verify_event.py; a changed one or another job topic does not', () => {
    const agent = generateSigningKey();
    const JOB = topics.job('web-1', 's1');
    const result = { v: 1, host: 'web-1', job: 's1', seq: 2, ts: 1795574204582, type: 'result', code: 0, durationMs: 5, events: 1, value: { loadavg: [0.52, 1.25, 0.0001], big: 1e21, name: 'é 😀' } };
    const signed = JSON.stringify(signEvent(result, JOB, agent.privateKey));
    const key = publicKeyText(agent.publicKey);
    const ok = py(docScript('verify_event.py'), [key, JOB], signed);
    expect(ok.stderr).toBe('');
    expect(ok.stdout).toBe('genuine\n');
    const changed = py(docScript('verify_event.py'), [key, JOB], signed.replace('"code":0', '"code":1'));
    expect(changed.stderr).toMatch(/InvalidSignature/);
    const moved = py(docScript('verify_event.py'), [key, topics.job('web-1', 's2')], signed);
    expect(moved.stderr).toMatch(/InvalidSignature/);
    const other = py(docScript('verify_event.py'), [publicKeyText(generateSigningKey().publicKey), JOB], signed);
    expect(other.stderr).toMatch(/not by this host/);
  });
});
