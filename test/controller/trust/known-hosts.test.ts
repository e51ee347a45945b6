// The known-hosts file on its own: lines read, comments skipped, a malformed line refused with the
// file and line named, appends created owner-only.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HostKeys } from '../../../controller/trust/host-keys.js';
import { appendKnownHost, readKnownHosts } from '../../../controller/trust/known-hosts.js';
import { generateSigningKey, keyId, publicKeyText } from '../../../protocol/index.js';

const dir = mkdtempSync(join(tmpdir(), 'cp-known-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const pub = () => publicKeyText(generateSigningKey().privateKey);

describe('known-hosts file', () => {
  it('reads HOST KEY lines, skipping blanks and comments; an absent file is empty', () => {
    const [a, b] = [pub(), pub()];
    const f = join(dir, 'ok');
    writeFileSync(f, `# pinned by hand\nweb-1 ${a}\n\n  db-1   ${b}  \n`);
    expect([...readKnownHosts(f)]).toEqual([['web-1', a], ['db-1', b]]);
    expect(readKnownHosts(join(dir, 'none')).size).toBe(0);
  });

  it('refuses a malformed line naming the file and line (BAD_OPTION)', () => {
    const f = join(dir, 'bad');
    writeFileSync(f, `web-1 ${pub()}\nweb/2 ${pub()}\n`);
    expect(() => readKnownHosts(f)).toThrow(expect.objectContaining({ code: 'BAD_OPTION', message: expect.stringContaining(`${f}:2`) }));
    writeFileSync(f, 'web-1 not-a-key\n');
    expect(() => new HostKeys({ knownHosts: f })).toThrow(/expected "HOST PUBLIC-KEY"/);
  });

  it('appends with mode 0600, creating the directory', () => {
    const f = join(dir, 'sub', 'known_hosts');
    const k = pub();
    appendKnownHost(f, 'web-1', k);
    expect(statSync(f).mode & 0o777).toBe(0o600);
    expect(readFileSync(f, 'utf8')).toBe(`web-1 ${k}\n`);
  });

  it('[cp-sig-7] pins on first contact, then flags a different key or a missing one without adopting it', () => {
    const keys = new HostKeys();
    const first = generateSigningKey().privateKey;
    expect(keys.observe('web-1', publicKeyText(first), true)).toEqual({ pinnedKeyId: keyId(first) });
    const other = pub();
    expect(keys.observe('web-1', other, true).changed).toBeDefined();
    expect(keys.observe('web-1', undefined, true).changed).toEqual({ announcedKeyId: null });
    // A Last Will carries no key: not a change.
    expect(keys.observe('web-1', undefined, false).changed).toBeUndefined();
    expect(keys.pinned('web-1')).toBe(publicKeyText(first));
  });
});

describe('a known-hosts file that cannot be written', () => {
  it('keeps the pin in memory and warns instead of throwing into the message handler', () => {
    const parent = join(dir, 'later-a-file');
    const warnings: string[] = [];
    const keys = new HostKeys({ knownHosts: join(parent, 'known_hosts') }, (m) => warnings.push(m));
    // After start-up its directory became a file: the append fails (as on a full or read-only disk).
    writeFileSync(parent, '');
    const k = pub();
    expect(keys.observe('web-1', k, true).pinnedKeyId).toBeDefined();
    expect(keys.pinned('web-1')).toBe(k);
    expect(warnings[0]).toMatch(/cannot write web-1's key/);
  });
});
