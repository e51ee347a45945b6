// The agent's own key [cp-sig-7] [cp-sig-8]: created once in the state directory (0600) and reused,
// so the key controllers pin survives restarts; a key others can read is refused; terminal events
// are signed after they were made to fit the event limit, the signature counted in it.
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeEvent } from '../../../agent/outbound/event-fit.js';
import { loadOrCreateOwnKey } from '../../../agent/trust/keys.js';
import { generateSigningKey, MAX_EVENT_BYTES, publicKeyText, topics, verifyEvent } from '../../../protocol/index.js';

const dir = mkdtempSync(join(tmpdir(), 'cp-own-key-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the agent key', () => {
  it('is created once with mode 0600 and the same key is read back', () => {
    const file = join(dir, 'agent.key');
    const first = loadOrCreateOwnKey(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(publicKeyText(loadOrCreateOwnKey(file))).toBe(publicKeyText(first));
  });

  it('is refused when group or others may read it', () => {
    const file = join(dir, 'open.key');
    loadOrCreateOwnKey(file);
    chmodSync(file, 0o644);
    expect(() => loadOrCreateOwnKey(file)).toThrow(/mode 644 lets others read it; chmod 600/);
  });
});

describe('signed terminal events', () => {
  const { privateKey, publicKey } = generateSigningKey();

  it('a result too large for the limit is shrunk first, then signed, and still fits with its sig', () => {
    const body = { type: 'result' as const, code: 0, durationMs: 1, events: 0, value: 'x'.repeat(MAX_EVENT_BYTES) };
    const buf = encodeEvent('web-1', 'j1', 3, body, privateKey);
    expect(buf.length).toBeLessThanOrEqual(MAX_EVENT_BYTES);
    const ev = JSON.parse(buf.toString());
    expect(ev.valueOmitted).toMatch(/over the/);
    expect(verifyEvent(ev, topics.job('web-1', 'j1'), publicKey)).toMatchObject({ ok: true });
  });

  it('a result just under the limit without its sig is shrunk because of the sig', () => {
    const base = encodeEvent('web-1', 'j2', 0, { type: 'result', code: 0, durationMs: 1, events: 0, value: '' }).length;
    const value = 'y'.repeat(MAX_EVENT_BYTES - base - 10);
    expect(encodeEvent('web-1', 'j2', 0, { type: 'result', code: 0, durationMs: 1, events: 0, value }).length).toBeLessThanOrEqual(MAX_EVENT_BYTES);
    const signed = encodeEvent('web-1', 'j2', 0, { type: 'result', code: 0, durationMs: 1, events: 0, value }, privateKey);
    expect(signed.length).toBeLessThanOrEqual(MAX_EVENT_BYTES);
    expect(verifyEvent(JSON.parse(signed.toString()), topics.job('web-1', 'j2'), publicKey)).toMatchObject({ ok: true });
  });

  it('output and accepted events are not signed', () => {
    const out = JSON.parse(encodeEvent('web-1', 'j3', 1, { type: 'output', stream: 'stdout', data: 'hi' }, privateKey).toString());
    expect(out.sig).toBeUndefined();
  });
});
