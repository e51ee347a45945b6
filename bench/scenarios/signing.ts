// Signing cost per command, in-process: what signing adds to a controller's publish (sign) and to the
// agent's handling of each command (verify), beside what each side already does per command in the
// same run (JSON.stringify of the envelope; decodeCommand of the payload). The round trip with
// signing on and off is in roundtrip.
import { performance } from 'node:perf_hooks';
import { banner } from '../lib/report.js';
import { p50 } from '../lib/stats.js';
import { PROTOCOL_VERSION, decodeCommand, generateSigningKey, signCommand, signEvent, topics, trustedKeys, verifyCommand, verifyEvent } from '../../protocol/index.js';
import type { Ctx } from './context.js';

/** µs per call of fn, one figure per batch, so a scheduler hiccup spoils a batch, not the median. */
function perCallMicros(batches: number, perBatch: number, fn: () => unknown): number[] {
  const out: number[] = [];
  for (let w = 0; w < perBatch; w++) fn(); // warm-up: JIT and key caches
  for (let b = 0; b < batches; b++) {
    const t = performance.now();
    for (let i = 0; i < perBatch; i++) fn();
    out.push(((performance.now() - t) * 1000) / perBatch);
  }
  return out;
}

export async function signing(ctx: Ctx): Promise<void> {
  banner('signing');
  const batches = ctx.quick ? 5 : 20;
  const perBatch = ctx.quick ? 200 : 1000;
  const runs = batches * perBatch;
  const { privateKey, publicKey } = generateSigningKey();
  const trusted = trustedKeys([publicKey]);
  const topic = topics.cmd('web-1');
  // A typical command: what `conplyent exec web-1 -- uname -a` sends.
  const env = { v: PROTOCOL_VERSION, id: 'V1StGXR8_Z5jdHi6B-myT', cmd: 'exec', args: ['uname', '-a'], opts: {}, from: 'ctl-abcdefghijkl', sentAt: Date.now(), ttlMs: 300_000, timeoutMs: 30_000 };
  const signed = signCommand(env, topic, privateKey);
  const payload = Buffer.from(JSON.stringify(signed));
  const decoded = decodeCommand(payload);
  if (!decoded.ok || !verifyCommand(decoded.value, topic, trusted).ok) throw new Error('signing bench: the signed command does not verify');

  const stringify = p50(perCallMicros(batches, perBatch, () => JSON.stringify(env)));
  const decode = p50(perCallMicros(batches, perBatch, () => decodeCommand(payload)));
  const sign = p50(perCallMicros(batches, perBatch, () => signCommand(env, topic, privateKey)));
  const verify = p50(perCallMicros(batches, perBatch, () => verifyCommand(decoded.value, topic, trusted)));

  const job = topics.job('web-1', env.id);
  const result = { v: PROTOCOL_VERSION, host: 'web-1', job: env.id, seq: 2, ts: Date.now(), type: 'result', code: 0, durationMs: 26, events: 1, signal: null, timedOut: false, killed: false };
  const signedResult = JSON.parse(JSON.stringify(signEvent(result, job, privateKey))) as typeof result & { sig: { kid: string; value: string } };
  const resultJson = p50(perCallMicros(batches, perBatch, () => JSON.stringify(result)));
  const signEv = p50(perCallMicros(batches, perBatch, () => signEvent(result, job, privateKey)));
  const verifyEv = p50(perCallMicros(batches, perBatch, () => verifyEvent(signedResult, job, publicKey)));

  const note = `median of ${batches} batches of ${perBatch}`;
  ctx.report.add('signing', { case: 'signCommand (controller, per command)', figure: sign, unit: 'µs', baselineName: 'JSON.stringify(envelope)', baseline: stringify, runs, note });
  ctx.report.add('signing', { case: 'verifyCommand (agent, per command)', figure: verify, unit: 'µs', baselineName: 'decodeCommand(payload)', baseline: decode, runs, note: `${note}; payload ${payload.length} B signed vs ${JSON.stringify(env).length} B unsigned` });
  ctx.report.add('signing', { case: 'signEvent (agent, per terminal event)', figure: signEv, unit: 'µs', baselineName: 'JSON.stringify(result)', baseline: resultJson, runs, note });
  ctx.report.add('signing', { case: 'verifyEvent (controller, per result)', figure: verifyEv, unit: 'µs', baselineName: 'JSON.stringify(result)', baseline: resultJson, runs, note });
}
