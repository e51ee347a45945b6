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
    expect(acc.json.argsOmitted).toMatch(/over the 4096-byte echo limit/);
    expect(acc.json.args[1]).toMatch(/…\(400000 chars\)$/);
    const r = await f.wire.waitFor((m) => m.topic === 'conplyent/es-1/job/big-args' && m.json.type === 'result', 8_000);
    expect(r.json.value).toMatchObject({ bytes: 400_000 });
  });

  it('[cp-limit-5] an accepted event echoes an upload chunk shortened (well under the event limit), and the chunk is written whole', async () => {
    const chunk = Buffer.alloc(96 * 1024, 0x5a).toString('base64');
    f.wire.send('conplyent/es-1/cmd', JSON.stringify({ id: 'chunk-echo', cmd: 'wrfile', args: [join(f.dir, 'chunk'), chunk], opts: { encoding: 'base64', offset: 0 } }));
    const acc = await f.wire.waitFor((m) => m.topic === 'conplyent/es-1/job/chunk-echo' && m.json.type === 'accepted', 8_000);
    expect(acc.json.argsOmitted).toMatch(/over the 4096-byte echo limit/);
    expect(acc.json.args[1]).toBe(`${chunk.slice(0, 100)}…(${chunk.length} chars)`);
    expect(JSON.stringify(acc.json).length).toBeLessThan(1024);
    const r = await f.wire.waitFor((m) => m.topic === 'conplyent/es-1/job/chunk-echo' && m.json.type === 'result', 8_000);
    expect(r.json.value).toMatchObject({ bytes: 96 * 1024 });
  });

  it('[cp-limit-3] an error event naming a huge path is cut with a marker, and the agent keeps answering', async () => {
    f.wire.send('conplyent/es-1/cmd', `id=big-path ls "${noise}"`);
    const e = await f.wire.waitFor((m) => m.topic === 'conplyent/es-1/job/big-path' && m.json.type === 'error', 8_000);
    expect(e.json.message).toMatch(/message cut/);
    expect(result(await f.wire.run('es-1', { id: 'still-there', cmd: 'ping' }, 8_000)).code).toBe(0);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(MAX_EVENT_BYTES);
  });
});
