// The renderer's promises: host-prefixed lines, a summary naming every failed / offline / silent
// host, no colors when not a TTY, and stable NDJSON.
import { describe, expect, it } from 'vitest';
import type { JobEvent } from '../../protocol/index.js';
import { JobHandle } from '../../controller/job.js';
import { capture, quietOwner as owner } from '../helpers/capture.js';
import { makeOutput } from '../../cli/controller/output.js';
import { JobRenderer } from '../../cli/controller/render-job.js';
import { Exit } from '../../cli/controller/exit-codes.js';

const base = { v: 1 as const, job: 'j1', ts: 0 };
const accepted = (host: string): JobEvent => ({ ...base, host, seq: 0, type: 'accepted', cmd: 'exec', args: [], kind: 'background', boot: 1 });

async function scenario(json: boolean) {
  const c = capture();
  const job = new JobHandle(owner, { id: 'j1', cmd: 'exec', expected: ['a', 'b', 'c', 'd'], offline: ['d'], unknown: [], noMatch: false, waitMs: 100, replayGraceMs: 1 });
  const r = new JobRenderer(makeOutput(json, c.out, c.err), job);
  const following = r.follow();
  job.begin();
  job.onEvent('a', accepted('a'));
  job.onEvent('a', { ...base, host: 'a', seq: 1, type: 'output', stream: 'stdout', data: 'line one\nline ' });
  job.onEvent('a', { ...base, host: 'a', seq: 2, type: 'output', stream: 'stdout', data: 'two\n' });
  job.onEvent('a', { ...base, host: 'a', seq: 3, type: 'result', code: 0, durationMs: 1, events: 2 });
  job.onEvent('b', accepted('b'));
  job.onEvent('b', { ...base, host: 'b', seq: 1, type: 'result', code: 2, durationMs: 1, events: 0 });
  const res = await following;
  return { ...c.text(), res };
}

describe('JobRenderer', () => {
  it('prefixes every output line with its host, pdsh style, joining chunks split mid-line', async () => {
    const { stdout } = await scenario(false);
    expect(stdout).toBe('a: line one\na: line two\n');
  });

  it('the summary names every host that failed, was offline or never answered; exit 3 wins over 1', async () => {
    const { stderr, res } = await scenario(false);
    expect(stderr).toContain('b: FAILED exit 2');
    expect(stderr).toContain('d: OFFLINE');
    expect(stderr).toContain('c: NO-ANSWER');
    expect(stderr).toMatch(/4 hosts: 1 ok; .*1 failed exit 2 \(b\).*/);
    expect(stderr).toMatch(/1 offline not run \(d\)/);
    expect(stderr).toMatch(/1 no-answer within --timeout \S+ s \(c\)/);
    expect(res.exit).toBe(Exit.NO_ANSWER);
  });

  it('writes no ANSI color codes when the output is not a TTY', async () => {
    const { stdout, stderr } = await scenario(false);
    expect(stdout + stderr).not.toMatch(/\x1b\[/);
  });

  it('--json writes one parseable event per line: start, wire events, one final per host, summary', async () => {
    const { stdout } = await scenario(true);
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ type: 'start', job: 'j1', expected: ['a', 'b', 'c', 'd'] });
    expect(lines.filter((l) => l.type === 'final').map((l) => [l.host, l.state]).sort()).toEqual([
      ['a', 'ok'],
      ['b', 'failed'],
      ['c', 'no-answer'],
      ['d', 'offline'],
    ]);
    expect(lines.filter((l) => l.type === 'output').map((l) => l.data).join('')).toBe('line one\nline two\n');
    expect(lines.at(-1)).toMatchObject({ type: 'summary', exit: 3, total: 4, states: { ok: ['a'], failed: ['b'] } });
  });
});

describe('host colors', () => {
  it('the first 12 hosts of a run get 12 different colors, assigned in order and stable per host', async () => {
    const { styler } = await import('../../cli/controller/style.js');
    const s = styler(true);
    const names = Array.from({ length: 12 }, (_, i) => `web-${i + 1}`);
    const codes = names.map((n) => /^\x1b\[([\d;]+)m/.exec(s.host(n))![1]);
    expect(new Set(codes).size).toBe(12);
    expect(s.host('web-3')).toBe(s.host('web-3'));
    expect(codes).not.toContain('31');
  });
});
