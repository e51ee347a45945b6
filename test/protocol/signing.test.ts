// Signed commands and signed results as topics.md "Signed commands" specifies them: the key id, the
// canonical form, the sig field, and every tamper a broker (or anyone who can publish) could try.
import { createHash, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  canonicalCommand,
  canonicalJson,
  CommandSchema,
  decodeCommand,
  ErrorCodes,
  generateSigningKey,
  JobEventSchema,
  keyId,
  parsePublicKey,
  PresenceSchema,
  publicKeyText,
  rawPublicKey,
  SIGNED_COMMAND_FIELDS,
  signCommand,
  signEvent,
  signedEventJson,
  topics,
  trustedKeys,
  verifyCommand,
  verifyEvent,
  type CommandInput,
} from '../../protocol/index.js';

const ops = generateSigningKey();
const other = generateSigningKey();
const trusted = trustedKeys([ops.publicKey]);
const WEB = topics.cmd('web-1');
const FULL: CommandInput = {
  v: 1,
  id: 'j1',
  cmd: 'exec',
  args: ['sh', '-c', 'echo "é"\n'],
  opts: { env: { A: '1' }, shell: true },
  from: 'ops',
  sentAt: 1795574204257,
  ttlMs: 60_000,
  timeoutMs: 10_000,
  cwd: '/tmp',
  target: 'role=web',
};

/** What the agent does: decode the payload as received, then verify it for the topic it came in on. */
function receive(payload: unknown, topic = WEB, keys = trusted) {
  const d = decodeCommand(Buffer.from(JSON.stringify(payload)));
  if (!d.ok) throw new Error(`decode: ${d.message}`);
  return verifyCommand(d.value, topic, keys);
}

describe('keys [cp-sig-1]', () => {
  it('the key id is the first 16 characters of base64url(SHA-256(raw 32-byte public key))', () => {
    const raw = rawPublicKey(ops.publicKey);
    expect(raw).toHaveLength(32);
    expect(keyId(ops.publicKey)).toBe(createHash('sha256').update(raw).digest('base64url').slice(0, 16));
    expect(keyId(ops.privateKey)).toBe(keyId(ops.publicKey));
    expect(keyId(ops.publicKey)).not.toBe(keyId(other.publicKey));
  });

  it('the text form is base64 of the raw key and parses back to the same key', () => {
    const text = publicKeyText(ops.publicKey);
    expect(text).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(text, 'base64').equals(rawPublicKey(ops.publicKey))).toBe(true);
    expect(keyId(parsePublicKey(` ${text}\n`))).toBe(keyId(ops.publicKey));
    expect(() => parsePublicKey('abc')).toThrow(/not base64 of 32 bytes/);
    expect(() => parsePublicKey(Buffer.alloc(31).toString('base64'))).toThrow(/not base64 of 32 bytes/);
  });

  it('other key types are refused with a message that says ed25519', () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(() => keyId(publicKey)).toThrow(/ec key; conplyent signs with ed25519 only/);
  });
});

describe('canonical form [cp-sig-3]', () => {
  it('sorts keys, has no white space, escapes as JSON.stringify does, keeps non-ASCII as UTF-8', () => {
    expect(canonicalJson({ b: [1, { d: null, c: true }], a: 'x"\\\n\u0001é€😀' }, 'portable')).toBe('{"a":"x\\"\\\\\\n\\u0001é€😀","b":[1,{"c":true,"d":null}]}');
  });

  it('holds every envelope field but sig, absent ones as null, args [] and opts {} by default', () => {
    // `session`, `out`, `fold` and `data` are covered only when present [cp-env-12] [cp-env-13] [cp-fold-1] [cp-cmdframe-3], so they are not among the always-present fields.
    expect([...SIGNED_COMMAND_FIELDS, 'sig', 'session', 'out', 'fold', 'data'].sort()).toEqual(Object.keys(CommandSchema.shape).sort());
    const bytes = canonicalCommand({ id: 'j1', cmd: 'ping', sentAt: 5 }, WEB, 'AAAAAAAAAAAAAAAA').toString('utf8');
    expect(bytes).toBe(
      '{"args":[],"cmd":"ping","ctx":"conplyent-cmd/1","cwd":null,"from":null,"id":"j1","kid":"AAAAAAAAAAAAAAAA","opts":{},"sentAt":5,"target":null,"timeoutMs":null,"topic":"conplyent/web-1/cmd","ttlMs":null,"v":null}',
    );
  });

  it('[cp-env-12] a session is signed when present and absent from the bytes otherwise', () => {
    const without = canonicalCommand({ id: 'j1', cmd: 'ping', sentAt: 5 }, WEB, 'AAAAAAAAAAAAAAAA').toString('utf8');
    const withSession = canonicalCommand({ id: 'j1', cmd: 'ping', sentAt: 5, session: 'alice' }, WEB, 'AAAAAAAAAAAAAAAA').toString('utf8');
    expect(without).not.toContain('session');
    expect(withSession).toContain('"session":"alice"');
  });

  it('[cp-fold-1] fold is signed when present: stripped or added in transit, the signature fails', () => {
    const without = canonicalCommand({ id: 'j1', cmd: 'ping', sentAt: 5 }, WEB, 'AAAAAAAAAAAAAAAA').toString('utf8');
    expect(without).not.toContain('fold');
    expect(canonicalCommand({ id: 'j1', cmd: 'ping', sentAt: 5, fold: true }, WEB, 'AAAAAAAAAAAAAAAA').toString('utf8')).toContain('"fold":true');
    const signed = signCommand({ ...FULL, fold: true }, WEB, ops.privateKey);
    expect(receive(signed)).toEqual({ ok: true, kid: keyId(ops.publicKey) });
    const { fold: _stripped, ...stripped } = signed;
    expect(receive(stripped)).toMatchObject({ ok: false, error: 'BAD_SIGNATURE' });
    expect(receive({ ...signCommand(FULL, WEB, ops.privateKey), fold: true })).toMatchObject({ ok: false, error: 'BAD_SIGNATURE' });
  });

  it('[cp-cmdframe-3] a command frame header\'s data is signed: other bytes described in transit fail the signature', () => {
    const data = { bytes: 3, sha256: 'a'.repeat(64) };
    expect(canonicalCommand({ id: 'j1', cmd: 'wrfile', sentAt: 5, data }, WEB, 'AAAAAAAAAAAAAAAA').toString('utf8')).toContain(`"data":{"bytes":3,"sha256":"${'a'.repeat(64)}"}`);
    // A frame's header, not a JSON command: verified as decoded, without the JSON round trip of receive().
    const signed = signCommand({ ...FULL, data }, WEB, ops.privateKey);
    expect(verifyCommand(signed, WEB, trusted)).toEqual({ ok: true, kid: keyId(ops.publicKey) });
    expect(verifyCommand({ ...signed, data: { bytes: 3, sha256: 'b'.repeat(64) } }, WEB, trusted)).toMatchObject({ ok: false, error: 'BAD_SIGNATURE' });
    const { data: _stripped, ...stripped } = signed;
    expect(verifyCommand(stripped, WEB, trusted)).toMatchObject({ ok: false, error: 'BAD_SIGNATURE' });
  });

  it('[cp-sig-9] refuses what Python would write differently: fractions, unsafe integers, lone surrogates, astral keys', () => {
    expect(() => canonicalJson({ a: [1.5] }, 'portable')).toThrow(/a\.0: 1\.5 is not an integer/);
    expect(() => canonicalJson(2 ** 53, 'portable')).toThrow(/not an integer/);
    expect(() => canonicalJson('\uD800x', 'portable')).toThrow(/lone UTF-16 surrogate/);
    expect(() => canonicalJson({ '😀': 1 }, 'portable')).toThrow(/above U\+FFFF/);
    expect(() => canonicalJson({ a: undefined }, 'portable')).toThrow(/a: undefined is not a JSON value/);
    // Events (signed by Node, RFC 8785 numbers) accept fractions, written as ECMAScript writes them.
    expect(canonicalJson({ load: [0.5, 1e-7, 1e21, -0] }, 'jcs')).toBe('{"load":[0.5,1e-7,1e+21,0]}');
  });
});

describe('signCommand / verifyCommand [cp-sig-2] [cp-sig-5]', () => {
  it('a signed command verifies for its topic, with the key id of the signer', () => {
    const signed = signCommand(FULL, WEB, ops.privateKey);
    expect(signed.sig.kid).toBe(keyId(ops.publicKey));
    expect(signed.sig.value).toMatch(/^[A-Za-z0-9+/]{86}==$/);
    expect(CommandSchema.safeParse(signed).success).toBe(true);
    expect(receive(signed)).toEqual({ ok: true, kid: keyId(ops.publicKey) });
    // The smallest signed command, and a fleet command on the fleet topic.
    expect(receive(signCommand({ id: 'p1', cmd: 'ping', sentAt: 1 }, WEB, ops.privateKey))).toMatchObject({ ok: true });
    expect(receive(signCommand(FULL, topics.fleetCmd(), ops.privateKey), topics.fleetCmd())).toMatchObject({ ok: true });
  });

  it('explicit defaults and absent args/opts sign the same bytes (the agent verifies the decoded envelope)', () => {
    const signed = signCommand({ id: 'p2', cmd: 'ping', sentAt: 1 }, WEB, ops.privateKey);
    expect(receive({ ...signed, args: [], opts: {} })).toMatchObject({ ok: true });
  });

  it('[cp-sig-6] every signed field changed, added or dropped is BAD_SIGNATURE', () => {
    const signed = signCommand(FULL, WEB, ops.privateKey) as Record<string, unknown>;
    const changes: Record<string, unknown> = {
      v: undefined, id: 'j2', cmd: 'rm', args: ['sh', '-c', 'echo "e"\n'], opts: { env: { A: '2' }, shell: true },
      from: 'eve', sentAt: 1795574204258, ttlMs: 86_400_000, timeoutMs: undefined, cwd: '/', target: 'all',
    };
    for (const f of SIGNED_COMMAND_FIELDS) {
      const tampered = { ...signed, [f]: changes[f] };
      if (changes[f] === undefined) delete tampered[f];
      const r = receive(tampered);
      expect(r, `tampered ${f}`).toMatchObject({ ok: false, error: 'BAD_SIGNATURE', code: ErrorCodes.BAD_SIGNATURE });
    }
    const minimal = signCommand({ id: 'm1', cmd: 'ping', sentAt: 1 }, WEB, ops.privateKey);
    for (const [f, v] of Object.entries({ from: 'ops', cwd: '/', ttlMs: 1, timeoutMs: 1, target: 'all', v: 1 })) {
      expect(receive({ ...minimal, [f]: v }), `added ${f}`).toMatchObject({ ok: false, error: 'BAD_SIGNATURE' });
    }
  });

  it("[cp-sig-6] another host's topic, or the fleet topic, is BAD_SIGNATURE", () => {
    const signed = signCommand(FULL, WEB, ops.privateKey);
    expect(receive(signed, topics.cmd('db-1'))).toMatchObject({ ok: false, error: 'BAD_SIGNATURE' });
    expect(receive(signed, topics.fleetCmd())).toMatchObject({ ok: false, error: 'BAD_SIGNATURE' });
  });

  it('[cp-sig-5] no sig is UNSIGNED; a kid not trusted is UNKNOWN_KEY; another kid of a trusted key is BAD_SIGNATURE', () => {
    expect(receive({ id: 'u1', cmd: 'ping' })).toMatchObject({ ok: false, error: 'UNSIGNED', code: -1 });
    expect(receive(signCommand(FULL, WEB, other.privateKey))).toMatchObject({ ok: false, error: 'UNKNOWN_KEY', code: -1 });
    // Both keys trusted: a signature by one presented under the other's kid does not verify.
    const both = trustedKeys([ops.publicKey, publicKeyText(other.publicKey)]);
    const signed = signCommand(FULL, WEB, ops.privateKey);
    expect(receive({ ...signed, sig: { ...signed.sig, kid: keyId(other.publicKey) } }, WEB, both)).toMatchObject({ ok: false, error: 'BAD_SIGNATURE' });
    // A signature that is not a signature at all.
    expect(receive({ ...signed, sig: { ...signed.sig, value: Buffer.alloc(64).toString('base64') } })).toMatchObject({ ok: false, error: 'BAD_SIGNATURE' });
  });

  it('[cp-sig-4] a signed command without id or sentAt is BAD_SIGNATURE, and signCommand refuses to make one', () => {
    const signed = signCommand(FULL, WEB, ops.privateKey) as Record<string, unknown>;
    for (const f of ['id', 'sentAt']) {
      const { [f]: _dropped, ...rest } = signed;
      expect(receive(rest), `without ${f}`).toMatchObject({ ok: false, error: 'BAD_SIGNATURE', message: /must carry id and sentAt/ });
      const { [f]: _d, ...unsigned } = FULL as Record<string, unknown>;
      expect(() => signCommand(unsigned as CommandInput, WEB, ops.privateKey)).toThrow(/must carry id and sentAt/);
    }
  });

  it('signCommand refuses invalid envelopes, non-command topics and values without a portable form', () => {
    expect(() => signCommand({ ...FULL, arg: [] } as CommandInput, WEB, ops.privateKey)).toThrow(/not valid: .*Unrecognized key/);
    expect(() => signCommand(FULL, topics.status('web-1'), ops.privateKey)).toThrow(/not a command topic/);
    expect(() => signCommand({ ...FULL, args: [0.5] }, WEB, ops.privateKey)).toThrow(/args\.0: 0\.5 is not an integer/);
    // The agent side answers such a command with BAD_SIGNATURE instead of throwing.
    const signed = signCommand(FULL, WEB, ops.privateKey);
    expect(receive({ ...signed, args: [0.5] })).toMatchObject({ ok: false, error: 'BAD_SIGNATURE', message: /no canonical form/ });
  });

  it('[cp-sig-2] a malformed sig is BAD_ENVELOPE at decode, before any verification', () => {
    for (const sig of ['abc', { kid: 'short', value: 'x' }, { kid: 'AAAAAAAAAAAAAAAA', value: 'AA==' }, { kid: 'AAAAAAAAAAAAAAAA', value: Buffer.alloc(64).toString('base64'), alg: 'none' }]) {
      const d = decodeCommand(Buffer.from(JSON.stringify({ id: 's1', cmd: 'ping', sentAt: 1, sig })));
      expect(d, JSON.stringify(sig)).toMatchObject({ ok: false, error: 'BAD_ENVELOPE', id: 's1' });
    }
  });
});

describe('signed events [cp-sig-8]', () => {
  const agent = generateSigningKey();
  const JOB = topics.job('web-1', 'j1');
  const result = { v: 1, host: 'web-1', job: 'j1', seq: 2, ts: 1795574204582, type: 'result', code: 0, durationMs: 5, events: 1, value: { loadavg: [0.52, 1.25, 0.00001], n: undefined } };

  it('terminal events verify with the host key, as received from JSON, and stay valid events', () => {
    for (const ev of [
      result,
      { v: 1, host: 'web-1', job: 'j1', seq: 0, ts: 1, type: 'error', code: -1, error: 'BAD_ARGS', message: 'usage: x' },
      { v: 1, host: 'web-1', job: 'j1', seq: 1, ts: 1, type: 'lost', code: 1, message: 'the agent stopped', boot: 7 },
    ]) {
      const signed = signEvent(ev, JOB, agent.privateKey);
      const received = JSON.parse(JSON.stringify(signed)) as typeof signed;
      expect(JobEventSchema.safeParse(received).success, ev.type).toBe(true);
      expect(verifyEvent(received, JOB, agent.publicKey), ev.type).toEqual({ ok: true, kid: keyId(agent.publicKey) });
    }
  });

  it('signedEventJson is the signed event as JSON text, byte for byte (ed25519 signatures are deterministic)', () => {
    const withOldSig = { ...result, sig: { kid: 'AbCdEfGhIjKlMnOp', value: 'x' } };
    for (const ev of [result, withOldSig, { ...result, value: { at: new Date(0), s: 'ü "q" \\' } }]) {
      expect(signedEventJson(ev, JOB, agent.privateKey)).toBe(JSON.stringify(signEvent(ev, JOB, agent.privateKey)));
    }
  });

  it('a changed field, another job topic, another host key or no sig does not verify', () => {
    const signed = JSON.parse(JSON.stringify(signEvent(result, JOB, agent.privateKey))) as Record<string, unknown> & { type: string };
    expect(verifyEvent({ ...signed, code: 1 }, JOB, agent.publicKey)).toMatchObject({ ok: false, error: 'BAD_SIGNATURE' });
    expect(verifyEvent({ ...signed, extra: 1 }, JOB, agent.publicKey)).toMatchObject({ ok: false, error: 'BAD_SIGNATURE' });
    expect(verifyEvent(signed, topics.job('web-1', 'j2'), agent.publicKey)).toMatchObject({ ok: false, error: 'BAD_SIGNATURE' });
    expect(verifyEvent(signed, topics.job('db-1', 'j1'), agent.publicKey)).toMatchObject({ ok: false, error: 'BAD_SIGNATURE' });
    expect(verifyEvent(signed, JOB, other.publicKey)).toMatchObject({ ok: false, error: 'UNKNOWN_KEY' });
    expect(verifyEvent({ ...signed, sig: undefined }, JOB, agent.publicKey)).toMatchObject({ ok: false, error: 'UNSIGNED' });
    expect(verifyEvent({ ...signed, sig: { kid: keyId(agent.publicKey), value: 7 } } as never, JOB, agent.publicKey)).toMatchObject({ ok: false, error: 'BAD_SIGNATURE' });
  });

  it('a command signature never verifies as an event signature (domain tags differ)', () => {
    const cmd = signCommand(FULL, WEB, ops.privateKey);
    expect(verifyEvent({ ...cmd, type: 'result' } as never, WEB, ops.publicKey)).toMatchObject({ ok: false, error: 'BAD_SIGNATURE' });
  });

  it('only terminal events on job topics are signed', () => {
    expect(() => signEvent({ ...result, type: 'output' }, JOB, agent.privateKey)).toThrow(/only terminal events/);
    expect(() => signEvent(result, WEB, agent.privateKey)).toThrow(/not a job topic/);
  });
});

describe('presence keys [cp-sig-7]', () => {
  it('presence may announce the agent key and requireSigned; unsigned agents stay valid', () => {
    const base = { v: 1, host: 'web-1', online: true, boot: 1, conn: 1, since: 1, startedAt: 1 };
    expect(PresenceSchema.safeParse(base).success).toBe(true);
    expect(PresenceSchema.safeParse({ ...base, key: publicKeyText(ops.publicKey), requireSigned: true }).success).toBe(true);
    expect(PresenceSchema.safeParse({ ...base, key: 'not-a-key' }).success).toBe(false);
  });
});
