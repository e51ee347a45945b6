// What put and get show: the progress bar (on a TTY only, redrawn at most every 100 ms) and the
// line of a host whose transfer did not succeed.
import type { TransferProgress } from '../../controller/transfer.js';
import { ProgressLine, type Output } from './output.js';
import { sec } from './outcome.js';
import type { Styler } from './style.js';

/**
 * `web-1: NO-ANSWER after --timeout 1 s (per chunk)`: a wait that ran out names the flag and its
 * value, as every timeout message of the CLI does; other failures say what the host answered.
 */
export function transferFailure(s: Styler, r: { host: string; state: string; error?: string }, timeoutMs: number, what: 'per chunk' | 'for the whole file'): string {
  const state = r.state.toUpperCase();
  if (r.state === 'no-answer' || r.state === 'running') return `${s.host(r.host)}: ${s.yellow(`${state} after --timeout ${sec(timeoutMs)} s (${what})`)}`;
  return `${s.host(r.host)}: ${s.red(state)} ${r.error ?? ''}`.trimEnd();
}

function mib(n: number): string {
  return `${(n / 1048576).toFixed(1)} MiB`;
}

export function progressBar(out: Output, label: string): { update: (p: TransferProgress) => void; done: () => void } {
  const line = new ProgressLine(out);
  const start = Date.now();
  return {
    update({ bytes, total }) {
      const secs = Math.max(0.001, (Date.now() - start) / 1000);
      const rate = `${mib(bytes / secs)}/s`;
      if (total > 0) {
        const frac = Math.min(1, bytes / total);
        const width = 30;
        const bar = '#'.repeat(Math.round(frac * width)).padEnd(width, '.');
        line.draw(`${label} [${bar}] ${Math.floor(frac * 100)}% ${mib(bytes)}/${mib(total)} ${rate}`);
      } else line.draw(`${label} ${mib(bytes)} ${rate}`);
    },
    done: () => line.clear(),
  };
}
