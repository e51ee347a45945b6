import { describe, expect, it } from 'vitest';
import type { HostInfo } from '../../controller/presence.js';
import { resolveTarget } from '../../controller/targets.js';
import { ControllerError } from '../../controller/errors.js';

function host(name: string, online = true, labels: Record<string, string> = {}): HostInfo {
  return { name, online, since: 1, lastSeen: 1, labels, commands: [], boot: 1, conn: 1 };
}

const fleet = [
  host('web-1', true, { role: 'web', env: 'prod' }),
  host('web-2', true, { role: 'web', env: 'dev' }),
  host('web-10', false, { role: 'web', env: 'prod' }),
  host('db-1', true, { role: 'db', env: 'prod' }),
  host('db-2', true, { role: 'db', env: 'prod' }),
];

describe('resolveTarget', () => {
  it('one named host goes to that host topic', () => {
    const r = resolveTarget('web-1', fleet);
    expect(r.expected).toEqual(['web-1']);
    expect(r.route).toEqual({ kind: 'direct', hosts: ['web-1'] });
  });

  it('a comma list of up to 3 hosts is one publish per host; more is one fleet publish', () => {
    expect(resolveTarget('web-1,db-1', fleet).route).toEqual({ kind: 'direct', hosts: ['web-1', 'db-1'] });
    const many = resolveTarget('web-1,web-2,db-1,db-2', fleet);
    expect(many.route).toEqual({ kind: 'fleet', target: 'web-1,web-2,db-1,db-2' });
    expect(many.expected).toEqual(['db-1', 'db-2', 'web-1', 'web-2']);
  });

  it('globs, labels and all always go out as ONE fleet publish', () => {
    expect(resolveTarget('web-*', fleet).route).toEqual({ kind: 'fleet', target: 'web-*' });
    expect(resolveTarget('role=db', fleet).route.kind).toBe('fleet');
    expect(resolveTarget('all', fleet).route.kind).toBe('fleet');
  });

  it('a glob selects matching names, sorted naturally, offline ones reported offline', () => {
    const r = resolveTarget('web-*', fleet);
    expect(r.expected).toEqual(['web-1', 'web-2', 'web-10']);
    expect(r.offline).toEqual(['web-10']);
  });

  it('several labels are ANDed', () => {
    expect(resolveTarget('role=web,env=prod', fleet).expected).toEqual(['web-1', 'web-10']);
    expect(resolveTarget('role=db,env=dev', fleet).noMatch).toBe(true);
  });

  it('a target that matches no known host is noMatch with nothing expected', () => {
    const r = resolveTarget('nosuch-*', fleet);
    expect(r.noMatch).toBe(true);
    expect(r.expected).toEqual([]);
    expect(resolveTarget('ghost', fleet).noMatch).toBe(true);
  });

  it('a named host never seen is expected and offline when others in the list are known', () => {
    const r = resolveTarget('web-1,ghost', fleet);
    expect(r.expected).toEqual(['ghost', 'web-1']);
    expect(r.unknown).toEqual(['ghost']);
    expect(r.offline).toEqual(['ghost']);
  });

  it('an explicit host list is a selector of names', () => {
    expect(resolveTarget(['db-1', 'db-2'], fleet).expected).toEqual(['db-1', 'db-2']);
  });

  it('a bad selector is a BAD_OPTION error naming the term', () => {
    expect(() => resolveTarget('web/1', fleet)).toThrow(ControllerError);
    expect(() => resolveTarget('web/1', fleet)).toThrow(/web\/1/);
    expect(() => resolveTarget(['a+b'], fleet)).toThrow(/a\+b/);
  });
});
