// Many agents in one process (over the built dist/), for controller tests that need a fleet.
// argv[2]: {broker, stateRoot, agents: [{name, labels, password?}]} (with a password the user name is the host name). stdin lines: `stop NAME`, `start NAME`.
// stdout lines: `ready`, `stopped NAME`, `started NAME`.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createAgent } from '../../dist/agent/index.js';

const cfg = JSON.parse(process.argv[2]);
const agents = new Map();

function make(a) {
  const stateDir = join(cfg.stateRoot, a.name);
  mkdirSync(stateDir, { recursive: true });
  const auth = a.password ? { username: a.name, password: a.password } : {};
  const agent = createAgent({ broker: cfg.broker, name: a.name, labels: a.labels ?? {}, stateDir, power: async () => {}, ...auth, ...(a.clockSkewMs !== undefined ? { clockSkewMs: a.clockSkewMs } : {}) });
  // A streaming command for attach and replay tests: `count N [delayMs]` prints 1..N.
  agent.registerBackgroundCommand('count', async (ctx) => {
    const n = Number(ctx.args[0] ?? 10);
    const delay = Number(ctx.args[1] ?? 0);
    for (let i = 1; i <= n && !ctx.signal.aborted; i++) {
      await ctx.write('stdout', `${i}\n`);
      if (delay) await new Promise((r) => setTimeout(r, delay));
    }
    return n;
  });
  agents.set(a.name, agent);
  return agent;
}

await Promise.all(cfg.agents.map((a) => make(a).start()));
process.stdout.write('ready\n');

createInterface({ input: process.stdin }).on('line', async (line) => {
  const [verb, name] = line.trim().split(/\s+/);
  const spec = cfg.agents.find((a) => a.name === name);
  if (verb === 'stop' && agents.has(name)) {
    await agents.get(name).stop();
    agents.delete(name);
    process.stdout.write(`stopped ${name}\n`);
  } else if (verb === 'start' && spec && !agents.has(name)) {
    await make(spec).start();
    process.stdout.write(`started ${name}\n`);
  }
});

process.on('SIGTERM', async () => {
  await Promise.race([Promise.all([...agents.values()].map((a) => a.stop())), new Promise((r) => setTimeout(r, 5000))]);
  process.exit(0);
});
