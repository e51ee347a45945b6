// [cp-limit-3] Every event the agent publishes stays under the event limit, whatever a command
// carries: an `accepted` echoing huge arguments, or an `error` naming a huge path. Raw control
// characters in a text command grow sixfold as JSON escapes, so a 400 kB command could make a 2.4 MB
// event: over the broker's packet limit, the broker drops the connection, the client resends the
// same QoS 1 publish on reconnect, forever (mqtt.js #768, #1005).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_EVENT_BYTES } from '../../protocol/index.js';
import { agentOnAedes } from '../helpers/agent-fixture.js';
import { result } from '../helpers/wire.js';

describe('event size bound', () => {
  const sizes: number[] = [];
  const noise = '\u0001'.repeat(400_000);
  const f = agentOnAedes('es-1', { keepaliveSec: 5 }, (f) => {
    f.wire.client.on('message', (topic, payload) => topic.startsWith('conplyent/es-1/job/') && sizes.push(payload.length));
  });

  it('[cp-limit-3] an accepted event whose arguments are too large is published with them shortened and marked', async () => {
    f.wire.send('conplyent/es-1/cmd', `id=big-args wrfile ${join(f.dir, 'noise')} "${noise}"`);
    const acc = await f.wire.waitFor((m) => m.topic === 'conplyent/es-1/job/big-args' && m.json.type === 'accepted', 8_000);
    expect(acc.json.argsOmitted).toMatch(/over the 262144-byte event limit/);
    expect(acc.json.args[1]).toMatch(/…\(400000 chars\)$/);
    const r = await f.wire.waitFor((m) => m.topic === 'conplyent/es-1/job/big-args' && m.json.type === 'result', 8_000);
    expect(r.json.value).toMatchObject({ bytes: 400_000 });
  });

  it('[cp-limit-3] an error event naming a huge path is cut with a marker, and the agent keeps answering', async () => {
    f.wire.send('conplyent/es-1/cmd', `id=big-path ls "${noise}"`);
    const e = await f.wire.waitFor((m) => m.topic === 'conplyent/es-1/job/big-path' && m.json.type === 'error', 8_000);
    expect(e.json.message).toMatch(/message cut/);
    expect(result(await f.wire.run('es-1', { id: 'still-there', cmd: 'ping' }, 8_000)).code).toBe(0);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(MAX_EVENT_BYTES);
  });
});
