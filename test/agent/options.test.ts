// Agent options are validated once, at the edge, with a TypeError naming the option and the value.
import { describe, expect, it } from 'vitest';
import { createAgent } from '../../agent/index.js';

const base = { broker: 'mqtt://127.0.0.1:1', name: 'opt-1', stateDir: '/nonexistent-not-used' };

describe('agent options', () => {
  it('[cp-env-6] refuses a clock-skew allowance that is not a non-negative number (it would silently disable dedupe and TTL)', () => {
    for (const clockSkewMs of [Number.NaN, -1, '5000', Infinity] as unknown[]) {
      expect(() => createAgent({ ...base, clockSkewMs: clockSkewMs as number }), String(clockSkewMs)).toThrow(/clockSkewMs/);
    }
    expect(() => createAgent({ ...base, clockSkewMs: 0 })).not.toThrow();
  });
});
