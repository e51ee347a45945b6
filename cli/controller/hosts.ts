// `conplyent hosts [target]`: the presence table (name, online, since / last seen, labels, os).
import type { Command } from 'commander';
import type { HostInfo } from '../../controller/presence.js';
import { defineVerb, targetOf, withFleet } from './common.js';
import { Exit, type ExitStatus } from './exit-codes.js';
import { ago, table, type Output } from './output.js';

// Why presence says offline, in words: a Last Will means the broker saw the connection drop.
const REASONS: Record<string, string> = { will: 'connection lost', shutdown: 'agent stopped', close_server: 'close_server' };

function row(out: Output, h: HostInfo, now: number): string[] {
  const s = out.style;
  // [cp-presence-8] online by its last status, but its heartbeats stopped (a broker node died?).
  const state = h.stale ? s.yellow('stale') : h.online ? s.green('online') : s.red('offline');
  const since = h.since !== null ? `${h.online ? 'up' : 'down'} ${ago(now - h.since)}` : h.lastSeen !== null ? `last seen ${ago(now - h.lastSeen)} ago` : 'down, since unknown';
  const heard = `last heard ${ago(now - h.heardAt)} ago`;
  const why = h.reason ? ` (${REASONS[h.reason] ?? h.reason})` : '';
  const seen = h.stale ? `${since}, ${heard}` : h.online ? since : `${since}${why}`;
  const labels = Object.entries(h.labels).map(([k, v]) => `${k}=${v}`).join(',') || '-';
  const os = h.facts ? `${h.facts.os} ${h.facts.release} ${h.facts.arch}` : '-';
  const signed = h.requireSigned ? 'required' : '-';
  // A changed key is flagged where people look: the pinned id, and the one presence now claims.
  const key = h.keyChanged ? s.red(`CHANGED ${h.keyChanged.pinnedKeyId} -> ${h.keyChanged.announcedKeyId ?? 'none'}`) : (h.keyId ?? '-');
  return [s.host(h.name), state, seen, labels, os, signed, key];
}

/** The presence table as people read it (exported for its rendering test). */
export function hostTable(out: Output, list: readonly HostInfo[], now: number): string {
  return table([['NAME', 'STATE', 'SINCE', 'LABELS', 'OS', 'SIGNED', 'KEY'].map((c) => out.style.bold(c)), ...list.map((h) => row(out, h, now))]);
}

/** A host whose key changed since it was pinned is flagged in the exit status too (docs/controller.md). */
function keyStatus(list: readonly HostInfo[]): ExitStatus {
  return list.some((h) => h.keyChanged) ? Exit.FORGED : Exit.OK;
}

export function registerHosts(program: Command): void {
  defineVerb(program, 'hosts [target]', 'list the hosts the broker knows: online state, since when, labels, OS, signing', [
    'conplyent hosts',
    "conplyent hosts 'web-*'",
    'conplyent hosts role=db --json | jq -r "select(.online) | .name"',
  ]).action(async (target: string | undefined, _o: unknown, cmd: Command) => {
    await withFleet(cmd, target, async ({ fleet, out }) => {
      let list = fleet.hosts();
      if (target || cmd.opts().exclude) {
        const r = fleet.resolve(targetOf(cmd, target ?? 'all'));
        if (r.noMatch) {
          if (!out.json) out.stderr.write(`no known host matches "${target ?? 'all'}"${cmd.opts().exclude ? ` without ${String(cmd.opts().exclude)}` : ''}\n`);
          return Exit.NO_MATCH;
        }
        list = list.filter((h) => r.expected.includes(h.name));
      }
      if (out.json) {
        for (const h of list) out.ndjson({ type: 'host', ...h });
        return keyStatus(list);
      }
      if (list.length === 0) {
        out.stderr.write('no hosts yet: start an agent (conplyent agent --broker …)\n');
        return Exit.OK;
      }
      const changed = list.filter((h) => h.keyChanged);
      if (changed.length) out.stderr.write(out.style.red(`key changed for ${changed.map((h) => h.name).join(', ')}: their results are checked with the pinned key and reported forged; if the change is expected, remove their lines from the known-hosts file\n`));
      out.stdout.write(hostTable(out, list, Date.now()));
      return keyStatus(list);
    });
  });
}
