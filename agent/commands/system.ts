// System commands: facts about the host and the agent's own life cycle (ping, os_info, user_name,
// reboot, shutdown, close_server).
import * as os from 'node:os';
import { z } from 'zod';
import { lazySchema } from '../../protocol/lazy-schema.js';
import type { CommandContext, CommandRegistry } from '../registry.js';
import { count } from './schemas.js';

const noOpts = lazySchema(() => z.object({}).strict());
const noArgs = lazySchema(() => z.tuple([]));

function userName(): string {
  try {
    return os.userInfo().username;
  } catch {
    // userInfo throws when the uid has no passwd entry (common in containers).
    return process.env.USER ?? process.env.USERNAME ?? String(process.getuid?.() ?? 'unknown');
  }
}

export function osInfo() {
  const cpus = os.cpus();
  return {
    os: os.type(),
    platform: process.platform,
    release: os.release(),
    arch: os.arch(),
    hostname: os.hostname(),
    cpus: { count: cpus.length, model: cpus[0]?.model ?? 'unknown' },
    totalmem: os.totalmem(),
    freemem: os.freemem(),
    uptime: os.uptime(),
    loadavg: os.loadavg(),
    nodeVersion: process.version,
  };
}

function power(action: 'reboot' | 'shutdown') {
  return (ctx: CommandContext<[], { delaySec?: number }>) => {
    const delaySec = ctx.opts.delaySec ?? 0;
    // The result goes out first: the core publishes it when the handler returns, before this runs;
    // the power function itself waits delaySec (at least ~1 s) before acting.
    setImmediate(() => {
      ctx.agent.power(action, delaySec).catch((err: unknown) => ctx.log.error({ err }, `${action} failed`));
    });
    return { action, delaySec };
  };
}

export function registerSystemCommands(registry: CommandRegistry): void {
  registry.register('foreground', 'ping', (ctx) => ({ pong: true, host: ctx.host, ts: Date.now() }), {
    args: noArgs,
    opts: noOpts,
    usage: '',
    summary: 'Answers {pong: true, host, ts}',
  });

  registry.register('foreground', 'os_info', () => osInfo(), {
    args: noArgs,
    opts: noOpts,
    usage: '',
    summary: 'Returns OS, platform, release, arch, hostname, CPUs, memory, uptime, load and Node version',
  });

  registry.register('foreground', 'user_name', () => userName(), {
    args: noArgs,
    opts: noOpts,
    usage: '',
    summary: 'Returns the name of the user the agent runs as',
  });

  const powerOpts = lazySchema(() => z.object({ delaySec: count('delaySec', 24 * 3600).optional() }).strict());
  registry.register('foreground', 'reboot', power('reboot'), {
    args: noArgs,
    opts: powerOpts,
    usage: '[delaySec=N]',
    summary: 'Reboots the host after delaySec seconds (about 1 s by default), once the result is out',
  });
  registry.register('foreground', 'shutdown', power('shutdown'), {
    args: noArgs,
    opts: powerOpts,
    usage: '[delaySec=N]',
    summary: 'Powers the host off after delaySec seconds (about 1 s by default), once the result is out',
  });

  registry.register(
    'foreground',
    'close_server',
    (ctx) => {
      ctx.agent.closeServer();
      return { closing: true };
    },
    {
      args: noArgs,
      opts: noOpts,
      usage: '',
      summary: 'Kills every job, reports the agent offline and stops it',
    },
  );
}
