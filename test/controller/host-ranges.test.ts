// pdsh host ranges in the controller: expansion, the compact form dshbak prints, and exclusion.
import { describe, expect, it } from 'vitest';
import { compressHosts, expandHostRanges, MAX_RANGE_HOSTS } from '../../controller/host-ranges.js';
import type { HostInfo } from '../../controller/presence.js';
import { resolveTarget } from '../../controller/targets.js';

const host = (name: string, labels: Record<string, string> = {}): HostInfo => ({ name, online: true, since: 1, lastSeen: 1, labels, commands: [], boot: 1, conn: 1 });

describe('host ranges', () => {
  it('expands web[1-3], keeps zero padding of web[01-10,15], leaves globs and labels alone', () => {
    expect(expandHostRanges('web[1-3]')).toBe('web1,web2,web3');
    expect(expandHostRanges('web[01-03,15]').split(',')).toEqual(['web01', 'web02', 'web03', 'web15']);
    expect(expandHostRanges('web-[1-2],role=db,db-*')).toBe('web-1,web-2,role=db,db-*');
    expect(expandHostRanges('rack[1-2]-n[1-2]')).toBe('rack1-n1,rack1-n2,rack2-n1,rack2-n2');
    expect(expandHostRanges('web[ab]')).toBe('web[ab]');
  });

  it('refuses a backwards range and one that names too many hosts', () => {
    expect(() => expandHostRanges('web[5-1]')).toThrow(/backwards/);
    expect(() => expandHostRanges(`web[1-${MAX_RANGE_HOSTS + 1}]`)).toThrow(/more than/);
  });

  it('folds host lists back into the compact, sorted form', () => {
    expect(compressHosts(['web-7', 'web-2', 'web-1', 'web-3', 'db-1'])).toBe('db-1,web-[1-3,7]');
    expect(compressHosts(['web01', 'web02', 'web10'])).toBe('web[01-02,10]');
    expect(compressHosts(['a', 'b'])).toBe('a,b');
    expect(expandHostRanges(compressHosts(['n-1', 'n-2', 'n-5']))).toBe('n-1,n-2,n-5');
  });

  it('a range selects names; --exclude leaves hosts out and the wire gets the names that remain', () => {
    const fleet = Array.from({ length: 12 }, (_, i) => host(`web-${i + 1}`, { role: 'web', env: i < 6 ? 'prod' : 'dev' }));
    expect(resolveTarget('web-[1-3]', fleet).expected).toEqual(['web-1', 'web-2', 'web-3']);
    expect(resolveTarget({ include: 'role=web', exclude: 'env=dev' }, fleet).expected).toEqual(fleet.slice(0, 6).map((h) => h.name));
    const x = resolveTarget({ include: 'web-[1-5]', exclude: 'web-3' }, fleet);
    expect(x.expected).toEqual(['web-1', 'web-2', 'web-4', 'web-5']);
    expect(x.route).toEqual({ kind: 'fleet', target: 'web-1,web-2,web-4,web-5' });
    expect(resolveTarget({ include: 'web-1', exclude: 'role=web' }, fleet).noMatch).toBe(true);
  });
});
