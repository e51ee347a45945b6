// link/packet-cache.ts: a conplyent connection never builds mqtt-packet's 65,536-entry number table
// (~6 MiB of heap, and the largest CPU cost of a cold exec's first packet after module loading).
// A real agent and controller exchange a command through a real broker, in one process, and the
// table mqtt.js's own copy of mqtt-packet would fill is still empty afterwards.
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../link/mqtt-options.js';
import { agentOnAedes } from '../helpers/agent-fixture.js';

const require = createRequire(import.meta.url);
// The copy mqtt.js loads, found from where mqtt.js is installed.
const numbers = require(require.resolve('mqtt-packet/numbers.js', { paths: [dirname(require.resolve('mqtt'))] })) as { cache: Record<number, Buffer> };
const writeToStream = require(require.resolve('mqtt-packet/writeToStream.js', { paths: [dirname(require.resolve('mqtt'))] })) as { cacheNumbers: boolean };

describe('link/packet-cache.ts', () => {
  const f = agentOnAedes('pc-1');

  it('turns the number table off for mqtt.js, and a round of commands leaves it empty', async () => {
    expect(writeToStream.cacheNumbers).toBe(false);
    for (let i = 0; i < 5; i++) {
      const events = await f.wire.run('pc-1', { cmd: 'ping' });
      expect(events.at(-1)?.type).toBe('result');
    }
    expect(Object.keys(numbers.cache)).toHaveLength(0);
  });
});
