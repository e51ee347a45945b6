// --fold (dshbak -c) and --sort: each host's lines are kept until every host ended, then printed once
// per distinct output under a compact host list, or host by host in name order. Kept output is
// bounded per host; past the bound the rest is dropped with a marker, never silently.
import { compressHosts } from '../../controller/host-ranges.js';
import type { Output } from './output.js';
import { compareHosts } from '../../controller/host-order.js';

/** Per host; --fold and --sort are for reading, and a host printing more is cut with a marker. */
export const MAX_KEPT_BYTES_PER_HOST = 1024 * 1024;

export class HostBuffers {
  private readonly lines = new Map<string, string[]>();
  private readonly bytes = new Map<string, number>();
  private readonly cut = new Set<string>();

  add(host: string, line: string): void {
    const list = this.lines.get(host) ?? [];
    this.lines.set(host, list);
    const used = this.bytes.get(host) ?? 0;
    if (used + line.length > MAX_KEPT_BYTES_PER_HOST) {
      if (!this.cut.has(host)) list.push(`[output past ${MAX_KEPT_BYTES_PER_HOST} bytes not kept; run without --fold/--sort to see it all]`);
      this.cut.add(host);
      return;
    }
    this.bytes.set(host, used + line.length + 1);
    list.push(line);
  }

  /** dshbak -c: one block per distinct output, blocks in the order of their first host's name. */
  printFolded(out: Output): void {
    const groups = new Map<string, string[]>();
    for (const host of [...this.lines.keys()].sort(compareHosts)) {
      const text = this.lines.get(host)!.join('\n');
      groups.set(text, [...(groups.get(text) ?? []), host]);
    }
    for (const [text, hosts] of groups) {
      const names = compressHosts(hosts);
      const rule = '-'.repeat(Math.min(72, Math.max(16, names.length)));
      out.stdout.write(`${rule}\n${out.style.bold(names)}\n${rule}\n${text}\n`);
    }
  }

  /** --sort: pdsh's `host: line` form, one host after the other in name order. */
  printSorted(out: Output): void {
    for (const host of [...this.lines.keys()].sort(compareHosts)) {
      for (const line of this.lines.get(host)!) out.stdout.write(`${out.style.host(host)}: ${line}\n`);
    }
  }
}
