// The spool bound: an agent with a tiny spool loses its link during a chatty job. What
// does not fit is dropped and said so: the receiver gets the lines before the outage, exactly one
// gap event counting what was dropped, the rest of the lines, and one terminal event. No silent hole.
// Not on the clusters: the bound and the gap are the agent's alone, and blackhole.test.ts already runs
// an outage mid-stream there (docs/scale.md).
import { describe, expect, it } from 'vitest';
import { brokerKinds } from '../helpers/brokers.js';
import { sleep } from '../helpers/wire.js';
import { checkStream, figures, nextEvent, proxiedAgent } from './scenario.js';

const LINES = 6_000;
/** A few hundred events fit; must stay above the publish window (32 events) so no drop happens while connected. */
const SPOOL = { spoolMemoryBytes: 16 * 1024, spoolDiskBytes: 16 * 1024 };

describe.each(brokerKinds())('spool bound on %s', (kind) => {
  const t = proxiedAgent(kind, 'sp-1', SPOOL);

  it('an outage past the spool bound yields one gap event with the dropped counts, then the rest, then one terminal', async () => {
    const id = 'chatty';
    const topic = `conplyent/sp-1/job/${id}`;
    t.wire.send('conplyent/sp-1/cmd', { id, cmd: 'count', args: [LINES, 50, 20] });
    await t.wire.waitFor((m) => m.topic === topic && m.json.type === 'output' && m.json.seq > 200, 10_000, 'the first lines');
    const offline = nextEvent(t.agent, 'offline', 5_000);
    t.proxy.cut();
    t.proxy.blackhole(); // stays unreachable while the job goes on
    await offline;
    await sleep(1_200);
    const healAt = Date.now();
    t.proxy.heal();
    await t.wire.waitFor((m) => m.topic === topic && m.json.type === 'result', 20_000, 'the result');
    const doneAt = Date.now();
    await sleep(300);

    const events = t.wire.jobEvents('sp-1', id);
    const s = checkStream(events);
    const lines = s.stdout.split('\n').filter(Boolean).map(Number);
    const ordered = [...new Map(events.map((e) => [e.seq, e])).values()].sort((a, b) => a.seq - b.seq);
    const gapAt = ordered.findIndex((e) => e.type === 'gap');
    const before = ordered.slice(0, gapAt).filter((e) => e.type === 'output').length;
    const dropped = s.gaps[0]?.droppedEvents ?? 0;
    figures(`spool-bound/${kind}`, {
      gapEvents: s.gaps.length,
      droppedEvents: dropped,
      droppedBytes: s.gaps[0]?.droppedBytes ?? 0,
      linesReceived: lines.length,
      unaccounted: LINES - lines.length - dropped,
      missingSeqs: s.missingSeqs,
      terminals: s.terminals,
      completeAfterHealMs: doneAt - healAt,
    });
    expect(s.gaps).toHaveLength(1);
    expect(dropped).toBeGreaterThan(0);
    expect(s.gaps[0].droppedBytes).toBeGreaterThan(0);
    expect(s.missingSeqs).toBe(0);
    expect(s.terminals).toBe(1);
    expect(ordered.at(-1).type).toBe('result');
    // Every line is either received or counted in the gap, and the hole is exactly where the gap is.
    expect(lines.length + dropped).toBe(LINES);
    expect(lines.slice(0, before)).toEqual([...Array(before).keys()].map((i) => i + 1));
    expect(lines.slice(before)).toEqual([...Array(LINES - before - dropped).keys()].map((i) => i + before + dropped + 1));
  });
});
