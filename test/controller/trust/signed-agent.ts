// One agent that requires commands signed by an operator key, on aedes, and that key written to a
// 0600 file as `conplyent key create` would: what the CLI suites of this folder drive.
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { createAgent, type Agent } from '../../../agent/index.js';
import { generateSigningKey, privateKeyPem, publicKeyText } from '../../../protocol/index.js';
import { startAedes, type TestBroker } from '../../helpers/brokers.js';

export interface SignedAgent {
  broker: TestBroker;
  agent: Agent;
  /** realpath of the suite's directory; the agent's state is `<dir>/state`. */
  dir: string;
  ops: KeyObject;
  /** The operator's private key file. */
  keyFile: string;
}

/** Registers beforeAll/afterAll; read the fields inside tests. */
export function signedAgentOnAedes(host: string): SignedAgent {
  const f = { ops: generateSigningKey().privateKey } as SignedAgent;
  beforeAll(async () => {
    f.dir = realpathSync(mkdtempSync(join(tmpdir(), `cp-${host}-`)));
    f.keyFile = join(f.dir, 'ops.key');
    writeFileSync(f.keyFile, privateKeyPem(f.ops), { mode: 0o600 });
    f.broker = await startAedes();
    f.agent = createAgent({ broker: f.broker.url, name: host, stateDir: join(f.dir, 'state'), trustedKeys: [publicKeyText(f.ops)], requireSigned: true });
    await f.agent.start();
  });
  afterAll(async () => {
    await f.agent?.stop();
    await f.broker?.stop();
    if (f.dir) rmSync(f.dir, { recursive: true, force: true });
  });
  return f;
}
