// The journal damage matrix [cp-state-1]: after a finished job, the agent is killed and its journal
// damaged the ways disks and people damage files. The same job id sent again (as a QoS 1 redelivery
// would, with its original sentAt) must never run a second time; a fresh command must run; and
// presence must say the state is damaged. A marker file per job id counts executions.
// "Unreadable" needs a reader that permissions stop: root reads a mode-000 file, so as root that
// case runs the agent as the user nobody (uid 65534) over a state directory nobody owns.
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAgent } from '../../agent/index.js';
import { brokerKinds } from '../helpers/brokers.js';
import { spawnAgent } from '../helpers/agent-proc.js';
import { procsOn } from '../helpers/agent-fixture.js';
import { result, sleep } from '../helpers/wire.js';

const SKEW_MS = 300;
const NOBODY = 65534;
const asRoot = process.getuid?.() === 0;

type Damage = (journal: string) => void;

/**
 * How the redelivery is refused: STATE_DAMAGED when the id's record is gone; `duplicate` when the
 * intact lines still hold it (a cut last line loses the job's end, so it is also reported lost).
 */
type Answer = 'STATE_DAMAGED' | 'duplicate';

const DAMAGE: [string, Answer, Damage][] = [
  ['truncated to 0 bytes', 'STATE_DAMAGED', (j) => truncateSync(j, 0)],
  ['overwritten with garbage', 'STATE_DAMAGED', (j) => writeFileSync(j, Buffer.from('\u0000\u0000\u00ffgarbage\nnot a journal\n'))],
  [
    'its last line cut',
    'duplicate',
    (j) => {
      const text = readFileSync(j, 'utf8');
      writeFileSync(j, text.slice(0, text.length - 6));
    },
  ],
  ['unreadable (mode 000)', 'STATE_DAMAGED', (j) => chmodSync(j, 0o000)],
  [
    'a directory in its place',
    'STATE_DAMAGED',
    (j) => {
      rmSync(j);
      mkdirSync(j);
    },
  ],
];

describe.each(brokerKinds())('journal damage on %s', (kind) => {
  const f = procsOn(kind, 'damage');
  beforeAll(() => chmodSync(f.dir, 0o755)); // the nobody case must reach its directory

  /** A command that appends one line to its own marker file: the number of lines is the number of runs. */
  const marked = (id: string, sentAt?: number) => ({ id, cmd: 'exec', args: ['sh', '-c', `echo run >> ${join(f.dir, `${id}.runs`)}`], ...(sentAt === undefined ? {} : { sentAt }) });
  const runs = (id: string) => (existsSync(join(f.dir, `${id}.runs`)) ? readFileSync(join(f.dir, `${id}.runs`), 'utf8').split('\n').filter(Boolean).length : 0);

  it.each(DAMAGE)('[cp-state-1] [cp-dedupe-1] journal %s: a re-sent finished id never runs again, a fresh command runs, presence says damaged', async (what, answer, damage) => {
    const name = `dmg-${what.replace(/[^a-z0-9]+/g, '-').replace(/-$/, '')}`.slice(0, 40);
    const stateDir = join(f.dir, name);
    const asNobody = asRoot && what.startsWith('unreadable');
    if (asNobody) {
      mkdirSync(stateDir);
      chownSync(stateDir, NOBODY, NOBODY);
      for (const id of ['first', 'undated', 'fresh']) {
        writeFileSync(join(f.dir, `${id}-${name}.runs`), '');
        chownSync(join(f.dir, `${id}-${name}.runs`), NOBODY, NOBODY);
      }
    }
    const as = asNobody ? { uid: NOBODY, gid: NOBODY } : undefined;
    const opts = { broker: f.broker.url, name, stateDir, powerLog: join(f.dir, `${name}.power`), keepaliveSec: 5, clockSkewMs: SKEW_MS };
    let p = await spawnAgent(opts, 15_000, as);
    f.procs.push(p);
    const first = marked(`first-${name}`, Date.now());
    expect(result(await f.wire.run(name, first)).code).toBe(0);
    const undated = marked(`undated-${name}`);
    expect(result(await f.wire.run(name, undated)).code).toBe(0);
    expect(runs(first.id)).toBe(1);
    // The terminal event's acknowledgement is journalled after the result is out: let it land.
    await sleep(300);
    await p.kill('SIGKILL');
    damage(join(stateDir, 'journal.log'));

    const seen = f.wire.messages.length;
    p = await spawnAgent(opts, 15_000, as);
    f.procs.push(p);
    const online = await f.wire.waitFor((m) => f.wire.messages.indexOf(m) >= seen && m.topic === `conplyent/${name}/status` && m.json.online === true, 10_000, 'online after damage');
    expect(online.json.state).toMatchObject({ status: 'damaged' });
    expect(online.json.state.reason).toMatch(/journal\.log/);

    // The redeliveries: same ids, same sentAt (or none).
    for (const cmd of [first, undated]) {
      f.wire.send(`conplyent/${name}/cmd`, cmd);
      if (answer === 'duplicate') {
        await f.wire.waitFor((m) => m.topic === `conplyent/${name}/errors` && m.json.type === 'duplicate' && m.json.job === cmd.id, 10_000, `duplicate of ${cmd.id}`);
      } else {
        const refused = await f.wire.waitFor((m) => m.topic === `conplyent/${name}/job/${cmd.id}` && m.json.error === 'STATE_DAMAGED', 10_000, `STATE_DAMAGED for ${cmd.id}`);
        expect(refused.json).toMatchObject({ type: 'error', seq: 0, code: 1 });
      }
    }

    // A command sent after the damage (past the skew allowance) is provably new and runs.
    while (Date.now() < online.json.state.since + SKEW_MS + 50) await sleep(50);
    const fresh = marked(`fresh-${name}`, Date.now());
    expect(result(await f.wire.run(name, fresh)).code).toBe(0);
    await sleep(300);
    expect(runs(first.id)).toBe(1);
    expect(runs(undated.id)).toBe(1);
    expect(runs(fresh.id)).toBe(1);
    await p.kill('SIGTERM');
  }, 60_000);

  it('[cp-state-1] the damage outlives a restart: a second start still refuses what predates it', async () => {
    const name = 'dmg-twice';
    const stateDir = join(f.dir, name);
    const opts = { broker: f.broker.url, name, stateDir, powerLog: join(f.dir, `${name}.power`), keepaliveSec: 5, clockSkewMs: SKEW_MS };
    let p = await spawnAgent(opts);
    f.procs.push(p);
    const first = marked(`first-${name}`, Date.now());
    expect(result(await f.wire.run(name, first)).code).toBe(0);
    await p.kill('SIGKILL');
    truncateSync(join(stateDir, 'journal.log'), 0);
    p = await spawnAgent(opts);
    await p.kill('SIGTERM'); // a clean stop: the new journal is whole, and records the damage
    const seen = f.wire.messages.length;
    p = await spawnAgent(opts);
    f.procs.push(p);
    const online = await f.wire.waitFor((m) => f.wire.messages.indexOf(m) >= seen && m.topic === `conplyent/${name}/status` && m.json.online === true);
    expect(online.json.state).toMatchObject({ status: 'damaged' });
    f.wire.send(`conplyent/${name}/cmd`, first);
    await f.wire.waitFor((m) => m.topic === `conplyent/${name}/job/${first.id}` && m.json.error === 'STATE_DAMAGED', 10_000, 'STATE_DAMAGED after a second start');
    await sleep(300);
    expect(runs(first.id)).toBe(1);
    await p.kill('SIGTERM');
  }, 60_000);

  it('[cp-state-2] [cp-state-3] an unwritable state directory comes online saying so and answers every command with STATE_UNAVAILABLE', async () => {
    const name = 'dmg-unwritable';
    // As root no permission stops a write; a regular file where the directory should be does.
    const stateDir = join(f.dir, 'not-a-f.dir');
    writeFileSync(stateDir, 'x');
    // In this process, to read its log.
    let log = '';
    const logger = pino({ level: 'info' }, { write: (s: string) => void (log += s) });
    const agent = createAgent({ broker: f.broker.url, name, stateDir: join(stateDir, 'state'), keepaliveSec: 5, logger });
    await agent.start();
    const online = await f.wire.waitFor((m) => m.topic === `conplyent/${name}/status` && m.json.online === true);
    expect(online.json.state).toMatchObject({ status: 'unavailable' });
    expect(log).toMatch(/state unavailable/);
    const ping = result(await f.wire.run(name, { cmd: 'ping' }));
    expect(ping).toMatchObject({ type: 'error', error: 'STATE_UNAVAILABLE', code: 1 });
    const cmd = marked(`never-${name}`, Date.now());
    expect(result(await f.wire.run(name, cmd))).toMatchObject({ error: 'STATE_UNAVAILABLE' });
    const text = result(await f.wire.run(name, 'id=t1 ping'));
    expect(text.error).toBe('STATE_UNAVAILABLE');
    await sleep(300);
    expect(runs(cmd.id)).toBe(0);
    await agent.stop();
  }, 60_000);
});
