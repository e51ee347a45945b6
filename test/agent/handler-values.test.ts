// Whatever a custom handler returns, its job ends with exactly one terminal event [cp-evt-5]: a
// value JSON cannot encode (BigInt, a cycle) is an error event, never a job that silently never ends.
import { describe, expect, it } from 'vitest';
import { CommandError, Outcome } from '../../agent/registry.js';
import { decodeEvent } from '../../protocol/index.js';
import { agentOnAedes } from '../helpers/agent-fixture.js';
import { result } from '../helpers/wire.js';

describe('handler return values', () => {
  const f = agentOnAedes('val-1', { keepaliveSec: 5 }, (f) => {
    f.agent.registerCommand('bigint', () => ({ n: 10n }));
    f.agent.registerCommand('cycle', () => {
      const o: Record<string, unknown> = {};
      o.self = o;
      return o;
    });
    f.agent.registerCommand('update_bigint', async (ctx) => {
      await ctx.update({ n: 1n });
      return 'after';
    });
    // A JavaScript plugin is not held to the ErrorCode type: an unknown code (or a prototype name).
    f.agent.registerCommand('bad_code', () => {
      throw new CommandError('NOT_A_CODE' as never, 'custom failure');
    });
    f.agent.registerCommand('odd_outcome', () => new Outcome(1.5 as never));
    f.agent.registerCommand('odd_signal', () => new Outcome(null, { signal: 9 as never }));
    f.agent.registerCommand('proto_code', () => {
      throw new CommandError('constructor' as never, 'custom failure');
    });
  });

  for (const cmd of ['bigint', 'cycle', 'update_bigint', 'odd_outcome', 'odd_signal']) {
    it(`[cp-evt-5] ${cmd}: a value JSON cannot encode ends the job with one FAILED error, and the agent goes on`, async () => {
      const evs = await f.wire.run('val-1', { id: `v-${cmd}`, cmd }, 5_000);
      expect(result(evs)).toMatchObject({ type: 'error', error: 'FAILED' });
      expect(result(await f.wire.run('val-1', { id: `after-${cmd}`, cmd: 'ping' }, 5_000)).code).toBe(0);
    });
  }

  for (const cmd of ['bad_code', 'proto_code']) {
    it(`[cp-err-1] ${cmd}: a CommandError with a code the contract does not know becomes a valid FAILED error event`, async () => {
      const t = result(await f.wire.run('val-1', { id: `v-${cmd}`, cmd }, 5_000));
      expect(t).toMatchObject({ type: 'error', error: 'FAILED', code: 1 });
      expect(t.message).toMatch(/custom failure/);
      expect(decodeEvent(Buffer.from(JSON.stringify(t)))).toBeDefined();
    });
  }
});
