// The progress bar of put and get: on a TTY only, redrawn at most every 100 ms.
import type { TransferProgress } from '../../controller/transfer.js';
import { ProgressLine, type Output } from './output.js';

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
