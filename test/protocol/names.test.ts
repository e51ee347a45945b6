// Host names, job ids and labels become topic levels and selector terms: topics.md "Names".
// Wildcards and separators never get in (Mosquitto CVE-2017-7650), and no host can be `_all`.
import { describe, expect, it } from 'vitest';
import {
  FLEET_LEVEL,
  decodeCommand,
  isHostName,
  isJobId,
  parseLabels,
  parseTopic,
  sanitizeHostName,
  topics,
} from '../../protocol/index.js';

const UNSAFE = ['/', '+', '#', '$', '\0', ' ', '\n', ':', '*', '=', ',', 'é'];

describe('names', () => {
  it('[cp-name-1] host names: letters, digits, _ . -, starting with a letter or digit, 1 to 64 characters', () => {
    for (const ok of ['web-1', 'a', 'A.b_c-d', '0day', 'x'.repeat(64), 'host.example.com']) expect(isHostName(ok), ok).toBe(true);
    for (const bad of ['', 'x'.repeat(65), '-web', '.web', '_web', 'web 1', 42, null, undefined]) expect(isHostName(bad), String(bad)).toBe(false);
    for (const ch of UNSAFE) expect(isHostName(`web${ch}1`), JSON.stringify(ch)).toBe(false);
  });

  it('[cp-name-1] the fleet level _all can never be a host name, so no host collides with the fleet topic', () => {
    expect(FLEET_LEVEL).toBe('_all');
    expect(isHostName(FLEET_LEVEL)).toBe(false);
    expect(parseTopic('conplyent/_all/cmd')).toEqual({ kind: 'fleetCmd' });
    expect(parseTopic('conplyent/_all/status')).toBeUndefined();
    expect(parseTopic('conplyent/_all/job/j1')).toBeUndefined();
  });

  it('[cp-name-2] job ids: letters, digits, _ . -, 1 to 64 characters; nanoid ids qualify', () => {
    for (const ok of ['j1', 'V1StGXR8_Z5jdHi6B-myT', '.', 'a.b-c_d', 'x'.repeat(64)]) expect(isJobId(ok), ok).toBe(true);
    for (const bad of ['', 'x'.repeat(65), 7, null]) expect(isJobId(bad), String(bad)).toBe(false);
    for (const ch of UNSAFE) expect(isJobId(`j${ch}1`), JSON.stringify(ch)).toBe(false);
  });

  it('[cp-name-2] a command whose id is not a valid job id is refused without the id (errors topic)', () => {
    for (const id of ['a/b', 'a+', '#', '$SYS', 'a\u0000b', 'x'.repeat(65), '']) {
      const d = decodeCommand(Buffer.from(JSON.stringify({ id, cmd: 'ping' })));
      expect(d, id).toMatchObject({ ok: false, error: 'BAD_ENVELOPE' });
      expect(d, id).not.toHaveProperty('id');
    }
  });

  it('[cp-name-3] labels are key=value; keys start with a letter, values may be empty, both from the safe charset', () => {
    expect(parseLabels(['role=web', 'env=', 'zone.a=eu-1_b'])).toEqual({ role: 'web', env: '', 'zone.a': 'eu-1_b' });
    for (const bad of ['role', '=web', '1role=web', 'role=we b', 'role=web/1', 'role=a+b', `k=${'v'.repeat(65)}`]) {
      expect(() => parseLabels([bad]), bad).toThrow(TypeError);
    }
  });

  it('[cp-name-1] sanitizeHostName turns an OS host name into a valid host name', () => {
    expect(sanitizeHostName('My Laptop (2)')).toBe('my-laptop-2-');
    expect(sanitizeHostName('_weird$$name')).toBe('weird-name');
    expect(sanitizeHostName('###')).toBe('host');
    expect(sanitizeHostName('x'.repeat(100))).toHaveLength(64);
    for (const raw of ['My Laptop (2)', '_weird$$name', '###', 'x'.repeat(100), 'a/b+c#d', '_all']) expect(isHostName(sanitizeHostName(raw)), raw).toBe(true);
  });

  it('[cp-topic-1] [cp-topic-3] [cp-topic-4] [cp-topic-5] topics are built and parsed by one module', () => {
    expect(topics.cmd('web-1')).toBe('conplyent/web-1/cmd');
    expect(topics.fleetCmd()).toBe('conplyent/_all/cmd');
    expect(topics.job('web-1', 'j1')).toBe('conplyent/web-1/job/j1');
    expect(topics.status('web-1')).toBe('conplyent/web-1/status');
    expect(topics.errors('web-1')).toBe('conplyent/web-1/errors');
    expect(parseTopic('conplyent/web-1/cmd')).toEqual({ kind: 'cmd', host: 'web-1' });
    expect(parseTopic('conplyent/web-1/job/j1')).toEqual({ kind: 'job', host: 'web-1', job: 'j1' });
    expect(parseTopic('conplyent/web-1/status')).toEqual({ kind: 'status', host: 'web-1' });
    expect(parseTopic('conplyent/web-1/errors')).toEqual({ kind: 'errors', host: 'web-1' });
  });

  it('[cp-topic-1] topics with invalid names, wildcards or extra levels are not contract topics', () => {
    for (const t of ['conplyent/+/cmd', 'conplyent/#', 'conplyent/web 1/cmd', 'conplyent/web-1/job/a+b', 'conplyent/web-1/job', 'conplyent/web-1/job/j1/x', 'conplyent/web-1/cmd/x', 'other/web-1/cmd', 'conplyent//cmd', '/conplyent/web-1/cmd']) {
      expect(parseTopic(t), t).toBeUndefined();
    }
  });
});

describe('reserved host names', () => {
  it('[cp-name-1] no host may be called all (the selector term for the whole fleet); a sanitised OS name avoids it', () => {
    expect(isHostName('all')).toBe(false);
    expect(sanitizeHostName('ALL')).toBe('all-host');
    expect(isHostName(sanitizeHostName('all'))).toBe(true);
  });
});
