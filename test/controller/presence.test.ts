import { describe, expect, it } from 'vitest';
import type { Presence } from '../../protocol/index.js';
import { PresenceView } from '../../controller/presence.js';

const status = (p: Partial<Presence>): Presence => ({ v: 1, host: 'web-1', online: true, boot: 1, conn: 1, since: 1000, startedAt: 900, labels: { role: 'web' }, commands: [], ...p });

describe('PresenceView [cp-presence-3]', () => {
  it('a late Last Will of an older connection never marks a newer connection offline', () => {
    const v = new PresenceView();
    v.apply('web-1', status({ boot: 3, conn: 2, online: true }));
    expect(v.apply('web-1', status({ boot: 3, conn: 1, online: false, since: null, reason: 'will' }))).toBe(false);
    expect(v.get('web-1')?.online).toBe(true);
    // An older boot loses too, whatever its conn.
    expect(v.apply('web-1', status({ boot: 2, conn: 9, online: false }))).toBe(false);
  });

  it('the Will of the current connection marks it offline and keeps labels and facts it did not carry', () => {
    const v = new PresenceView();
    v.apply('web-1', status({ facts: { os: 'Linux', platform: 'linux', release: '6', arch: 'x64', hostname: 'h', agentVersion: '0', nodeVersion: '20' } }), 5000);
    v.apply('web-1', status({ online: false, since: null, labels: {}, reason: 'will' }), 9000);
    const h = v.get('web-1')!;
    expect(h.online).toBe(false);
    expect(h.since).toBe(9000);
    expect(h.labels).toEqual({ role: 'web' });
    expect(h.facts?.os).toBe('Linux');
    expect(h.reason).toBe('will');
  });

  it('last seen: now while online, the moment it went offline when known, unknown from a retained Will alone', () => {
    const live = new PresenceView();
    live.apply('web-1', status({}), 5000);
    expect(live.get('web-1')?.lastSeen).toBe(5000);
    live.apply('web-1', status({ online: false, since: null, reason: 'will' }), 9000);
    expect(live.get('web-1')?.lastSeen).toBe(9000);
    const clean = new PresenceView();
    clean.apply('web-1', status({ online: false, since: 7000, reason: 'shutdown' }), 9000);
    expect(clean.get('web-1')?.lastSeen).toBe(7000);
    const late = new PresenceView();
    late.apply('web-1', status({ online: false, since: null, reason: 'will' }), 9000);
    expect(late.get('web-1')?.lastSeen).toBeNull();
  });

  it('emits presence changes and lists hosts in natural order', () => {
    const v = new PresenceView();
    const seen: string[] = [];
    v.on('presence', (c) => seen.push(`${c.host.name}:${c.host.online}`));
    v.apply('web-10', status({ host: 'web-10' }));
    v.apply('web-2', status({ host: 'web-2' }));
    expect(seen).toEqual(['web-10:true', 'web-2:true']);
    expect(v.list().map((h) => h.name)).toEqual(['web-2', 'web-10']);
  });
});
