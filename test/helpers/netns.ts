// A private NAT lab for tests (needs root): two network namespaces and two veth pairs.
//
//   root namespace              router namespace                 agent namespace
//   198.19.0.1/24  <-- veth -->  198.19.0.2/24 | 198.18.1.1/24 <-- veth -->  198.18.1.2/24
//   (broker listens here)        MASQUERADE out to the root        default route via the router
//
// Only addresses of the benchmarking range 198.18.0.0/15 are used, on links the lab creates; the
// root namespace gets one veth end and no route or rule. destroy() deletes both namespaces, which
// takes their veths, peers, iptables rules and conntrack tables with them.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const NAT_TOOLS = ['/usr/sbin/ip', '/usr/sbin/iptables', '/usr/sbin/conntrack'];
const TIMEOUT_MS = 10_000;

export interface NatLab {
  agentNs: string;
  routerNs: string;
  /** The broker's address: the root namespace's end of the outer veth. */
  brokerAddr: string;
  /** What the broker sees as the agent's address (the router's outer address). */
  natAddr: string;
  agentAddr: string;
  /** Runs a command in a namespace (bounded); returns stdout. */
  run(ns: string, cmd: string, args: string[]): string;
  /** The agent's local TCP ports of established connections to the broker port. */
  agentFlows(brokerPort: number): number[];
  /**
   * Kills the NAT mapping of one agent flow the way an expiring NAT does: its conntrack entry is
   * deleted and its packets, both ways, are dropped from now on. Returns what conntrack deleted.
   */
  expireMapping(agentPort: number, brokerPort: number): string;
  destroy(): void;
}

/** Why the lab cannot run here, or undefined when it can. */
export function natUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, iptables)';
  const missing = NAT_TOOLS.filter((t) => !existsSync(t));
  if (missing.length) return `missing ${missing.join(', ')}`;
  return undefined;
}

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', timeout: TIMEOUT_MS, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Creates the lab; names carry `tag` (e.g. the pid) so parallel runs never collide. */
export function createNatLab(tag: string): NatLab {
  const agentNs = `cpnat-a-${tag}`;
  const routerNs = `cpnat-r-${tag}`;
  // Interface names are at most 15 characters.
  const outerRoot = `cpo${tag}`.slice(0, 15);
  const outerRouter = `cpr${tag}`.slice(0, 15);
  const innerRouter = `cpi${tag}`.slice(0, 15);
  const innerAgent = `cpa${tag}`.slice(0, 15);
  const ip = (...a: string[]) => sh('ip', a);
  const inNs = (ns: string, cmd: string, args: string[]) => sh('ip', ['netns', 'exec', ns, cmd, ...args]);

  const destroy = () => {
    for (const ns of [agentNs, routerNs]) {
      try {
        ip('netns', 'del', ns);
      } catch {
        // not created, or already gone
      }
    }
    try {
      ip('link', 'del', outerRoot);
    } catch {
      // went with the router namespace
    }
  };

  destroy(); // leftovers of an earlier run with the same tag
  try {
    ip('netns', 'add', routerNs);
    ip('netns', 'add', agentNs);
    ip('link', 'add', outerRoot, 'type', 'veth', 'peer', 'name', outerRouter);
    ip('link', 'set', outerRouter, 'netns', routerNs);
    ip('addr', 'add', '198.19.0.1/24', 'dev', outerRoot);
    ip('link', 'set', outerRoot, 'up');
    inNs(routerNs, 'ip', ['addr', 'add', '198.19.0.2/24', 'dev', outerRouter]);
    inNs(routerNs, 'ip', ['link', 'set', outerRouter, 'up']);
    inNs(routerNs, 'ip', ['link', 'set', 'lo', 'up']);

    inNs(routerNs, 'ip', ['link', 'add', innerRouter, 'type', 'veth', 'peer', 'name', innerAgent]);
    inNs(routerNs, 'ip', ['link', 'set', innerAgent, 'netns', agentNs]);
    inNs(routerNs, 'ip', ['addr', 'add', '198.18.1.1/24', 'dev', innerRouter]);
    inNs(routerNs, 'ip', ['link', 'set', innerRouter, 'up']);
    inNs(agentNs, 'ip', ['addr', 'add', '198.18.1.2/24', 'dev', innerAgent]);
    inNs(agentNs, 'ip', ['link', 'set', innerAgent, 'up']);
    inNs(agentNs, 'ip', ['link', 'set', 'lo', 'up']);
    inNs(agentNs, 'ip', ['route', 'add', 'default', 'via', '198.18.1.1']);

    inNs(routerNs, 'sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1']);
    inNs(routerNs, 'iptables', ['-t', 'nat', '-A', 'POSTROUTING', '-o', outerRouter, '-j', 'MASQUERADE']);
    // Nothing may connect INTO the agent namespace: only replies to connections it opened pass.
    inNs(agentNs, 'iptables', ['-A', 'INPUT', '-i', innerAgent, '-m', 'conntrack', '--ctstate', 'ESTABLISHED,RELATED', '-j', 'ACCEPT']);
    inNs(agentNs, 'iptables', ['-A', 'INPUT', '-i', innerAgent, '-j', 'DROP']);
  } catch (e) {
    destroy();
    throw e;
  }

  return {
    agentNs,
    routerNs,
    brokerAddr: '198.19.0.1',
    natAddr: '198.19.0.2',
    agentAddr: '198.18.1.2',
    run: inNs,
    agentFlows(brokerPort) {
      const out = inNs(agentNs, 'ss', ['-tnH', 'state', 'established', 'dst', `198.19.0.1:${brokerPort}`]);
      return [...out.matchAll(/198\.18\.1\.2:(\d+)/g)].map((m) => Number(m[1]));
    },
    expireMapping(agentPort, brokerPort) {
      const flow = ['-p', 'tcp', '-s', '198.18.1.2', '--sport', String(agentPort), '-d', '198.19.0.1', '--dport', String(brokerPort)];
      // Drop first, so no packet re-creates the mapping between the two steps.
      inNs(routerNs, 'iptables', ['-I', 'FORWARD', ...flow, '-j', 'DROP']);
      let deleted = '';
      try {
        deleted = sh('ip', ['netns', 'exec', routerNs, 'conntrack', '-D', ...flow]).trim();
      } catch (e) {
        deleted = `conntrack -D: ${(e as { stderr?: string }).stderr?.trim() ?? (e as Error).message}`;
      }
      // The broker's packets to the old mapping now reach the router itself: drop them silently, as
      // an expired NAT does, instead of answering with a RST that would tell the broker.
      inNs(routerNs, 'iptables', ['-I', 'INPUT', '-p', 'tcp', '-s', '198.19.0.1', '--sport', String(brokerPort), '-j', 'DROP']);
      return deleted;
    },
    destroy,
  };
}
