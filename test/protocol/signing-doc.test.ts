// The signing examples printed in topics.md are real: the example signature verifies with the
// example key, the canonical bytes shown are what canonicalCommand makes, and the Node-RED
// function-node code signs commands an agent accepts.
import * as nodeCrypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  canonicalCommand,
  decodeCommand,
  generateSigningKey,
  keyId,
  parsePublicKey,
  privateKeyPem,
  topics,
  trustedKeys,
  verifyCommand,
} from '../../protocol/index.js';

const doc = readFileSync(fileURLToPath(new URL('../../topics.md', import.meta.url)), 'utf8');
const section = doc.slice(doc.indexOf('## Signed commands'), doc.indexOf('## Delivery across disconnects'));

function match(text: string, re: RegExp): string {
  const m = text.match(re);
  if (!m) throw new Error(`topics.md: nothing matches ${re}`);
  return m[1];
}

describe('topics.md signing examples', () => {
  it('[cp-sig-1] [cp-sig-2] the example command verifies with the example public key, on its topic', () => {
    const key = parsePublicKey(match(section, /public key: (\S+)/));
    expect(keyId(key)).toBe(match(section, /key id: (\S+)/));
    const d = decodeCommand(Buffer.from(match(section, /```json\n\s*(\{"id":"s1".*\})\n/)));
    if (!d.ok) throw new Error(d.message);
    expect(verifyCommand(d.value, topics.cmd('web-1'), trustedKeys([key]))).toEqual({ ok: true, kid: keyId(key) });
  });

  it('[cp-sig-3] the canonical bytes shown are exactly what canonicalCommand makes', () => {
    const shown = match(section, /```\n\s*(\{"args":\[\],"cmd":"ping".*\})\n/);
    expect(canonicalCommand({ id: 'j1', cmd: 'ping', sentAt: 5 }, topics.cmd('web-1'), 'AAAAAAAAAAAAAAAA').toString('utf8')).toBe(shown);
  });

  it('[cp-sig-3] the Node-RED function-node code signs commands that verify, nested options and numeric keys included', () => {
    const code = match(doc, /```js\n(\/\/ Node-RED function node: signs[\s\S]*?)```/);
    const ops = generateSigningKey();
    const env = { get: (name: string) => (name === 'CONPLYENT_KEY' ? privateKeyPem(ops.privateKey) : undefined) };
    // The function-node body runs with the names Node-RED gives it: msg, env, and the Setup module.
    const run = new Function('msg', 'env', 'nodeCrypto', 'Buffer', code) as (...a: unknown[]) => { payload: unknown };
    for (const [topic, payload] of [
      [topics.cmd('web-1'), { cmd: 'exec', args: ['uptime'] }],
      [topics.fleetCmd(), { cmd: 'exec', args: ['sh', '-c', 'echo "$A"'], opts: { env: { '10': 'x', '9': 'y', A: 'é' } }, target: 'role=web', ttlMs: 60_000 }],
    ] as const) {
      const out = run({ topic, payload }, env, nodeCrypto, Buffer);
      // The mqtt out node serialises the object with JSON.stringify; the agent decodes that.
      const d = decodeCommand(Buffer.from(JSON.stringify(out.payload)));
      if (!d.ok) throw new Error(d.message);
      expect(verifyCommand(d.value, topic, trustedKeys([ops.publicKey])), topic).toEqual({ ok: true, kid: keyId(ops.publicKey) });
    }
  });
});
