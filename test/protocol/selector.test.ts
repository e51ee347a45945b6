// Target selectors as topics.md documents them ("Target selectors"): the grammar every agent applies
// to a fleet command and the controller applies to its expected set.
import { describe, expect, it } from 'vitest';
import { matchesSelector, parseSelector, singleHost } from '../../protocol/index.js';

const fleet: Record<string, Record<string, string>> = {
  'web-1': { role: 'web', env: 'prod' },
  'web-2': { role: 'web', env: 'dev' },
  'web-10': { role: 'web', env: 'prod' },
  'db-1': { role: 'db', env: 'prod' },
  'Web-3': {},
};

/** The hosts of the test fleet a selector picks, sorted. */
const pick = (target: string) =>
  Object.entries(fleet)
    .filter(([host, labels]) => matchesSelector(parseSelector(target), host, labels))
    .map(([h]) => h)
    .sort();

describe('target selectors', () => {
  it('[cp-fleet-3] all and * select every host', () => {
    expect(pick('all')).toEqual(Object.keys(fleet).sort());
    expect(pick('*')).toEqual(Object.keys(fleet).sort());
  });

  it('[cp-fleet-3] a host name selects exactly that host, case-sensitively', () => {
    expect(pick('web-1')).toEqual(['web-1']);
    expect(pick('web-3')).toEqual([]);
    expect(pick('Web-3')).toEqual(['Web-3']);
  });

  it('[cp-fleet-3] globs: * any run of characters, ? one character, [..] one of a set or range', () => {
    expect(pick('web-*')).toEqual(['web-1', 'web-10', 'web-2']);
    expect(pick('web-?')).toEqual(['web-1', 'web-2']);
    expect(pick('web-[12]')).toEqual(['web-1', 'web-2']);
    expect(pick('web-[1-9]*')).toEqual(['web-1', 'web-10', 'web-2']);
    expect(pick('*-1')).toEqual(['db-1', 'web-1']);
    // A dot in a glob is a literal dot, not "any character".
    expect(matchesSelector(parseSelector('a.b*'), 'axb1', {})).toBe(false);
    expect(matchesSelector(parseSelector('a.b*'), 'a.b1', {})).toBe(true);
  });

  it('[cp-fleet-3] key=value selects hosts with that label; several labels must all hold', () => {
    expect(pick('role=web')).toEqual(['web-1', 'web-10', 'web-2']);
    expect(pick('role=web,env=prod')).toEqual(['web-1', 'web-10']);
    expect(pick('role=cache')).toEqual([]);
  });

  it('[cp-fleet-3] names and globs are alternatives (OR); labels then narrow them (AND)', () => {
    expect(pick('db-1,web-2')).toEqual(['db-1', 'web-2']);
    expect(pick('web-*,db-1')).toEqual(['db-1', 'web-1', 'web-10', 'web-2']);
    expect(pick('web-*,env=prod')).toEqual(['web-1', 'web-10']);
    expect(pick('web-2,db-1,env=prod')).toEqual(['db-1']);
    expect(pick('all,role=db')).toEqual(['db-1']);
  });

  it('[cp-fleet-2] terms are comma-separated; blanks around terms and empty terms are ignored', () => {
    expect(pick(' web-1 , ,db-1 ')).toEqual(['db-1', 'web-1']);
  });

  it('[cp-fleet-2] a selector that does not parse is a TypeError naming the bad term (BAD_TARGET on the wire)', () => {
    const bad: [string, RegExp][] = [
      ['', /target is empty/],
      [' , ', /target is empty/],
      ['web/1', /"web\/1" is not a valid host name/],
      ['_all', /"_all" is not a valid host name/],
      ['web+', /not a valid host name/],
      ['#', /not a valid host name/],
      ['role=web*', /not a valid label/],
      ['-role=web', /not a valid label/],
      ['web-[', /not a valid glob/],
      ['web-[!1]', /not a valid glob/],
      ['a'.repeat(65), /not a valid host name/],
    ];
    for (const [sel, msg] of bad) expect(() => parseSelector(sel), sel).toThrow(msg);
    expect(() => parseSelector('web/1')).toThrow(TypeError);
  });

  it('[cp-fleet-2] singleHost names the one host of a selector that is just a host name', () => {
    expect(singleHost(parseSelector('web-1'))).toBe('web-1');
    for (const s of ['web-*', 'web-1,web-2', 'web-1,role=web', 'all']) expect(singleHost(parseSelector(s)), s).toBeUndefined();
  });

  it('[cp-fleet-3] pathological globs (60 stars, *? runs) are matched without backtracking, with the same meaning', () => {
    const host = 'a'.repeat(64);
    expect(matchesSelector(parseSelector('*'.repeat(63) + 'Z'), host, {})).toBe(false);
    expect(matchesSelector(parseSelector('*?'.repeat(31) + 'Z'), host, {})).toBe(false);
    expect(matchesSelector(parseSelector('*a'.repeat(32)), host, {})).toBe(true);
    expect(matchesSelector(parseSelector('?'.repeat(64)), host, {})).toBe(true);
    expect(matchesSelector(parseSelector('?'.repeat(63)), host, {})).toBe(false);
    expect(matchesSelector(parseSelector('w*[0-9][0-9]'), 'web-10', {})).toBe(true);
    expect(matchesSelector(parseSelector('w*[0-9][0-9]'), 'web-1', {})).toBe(false);
    expect(matchesSelector(parseSelector('web-[]'), 'web-1', {})).toBe(false);
    expect(() => parseSelector('web-[1')).toThrow(TypeError);
    expect(() => parseSelector('web-[9-1]')).toThrow(TypeError);
  });
});
