// For renderer tests: an Output's two streams captured as text, and a job owner that answers every
// replay with nothing (the events a test feeds are all there is).
import { PassThrough } from 'node:stream';
import type { JobOwner } from '../../controller/job.js';

export function capture() {
  const out = new PassThrough();
  const err = new PassThrough();
  let o = '';
  let e = '';
  out.on('data', (d) => (o += d));
  err.on('data', (d) => (e += d));
  return { out, err, text: () => ({ stdout: o, stderr: e }) };
}

export const quietOwner: JobOwner = {
  replay: async (host) => ({ host, state: 'ok', code: 0, signal: null, durationMs: 0, stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) }),
  control: async () => {
    throw new Error('unused');
  },
  release() {},
};
