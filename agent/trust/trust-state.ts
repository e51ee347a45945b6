// What the agent trusts right now: the keys whose signatures it verifies (--trusted-key plus the
// public keys its policy lists), whether it refuses unsigned commands, and the policy in force.
// A policy reload swaps all of it at once; an invalid reload keeps the old one [docs/policy.md].
import type { KeyObject } from 'node:crypto';
import type { Logger } from 'pino';
import { parsePublicKey } from '../../protocol/index.js';
import type { Trust } from '../inbound/judge.js';
import { PolicyLoader } from '../policy/loader.js';
import type { Policy } from '../policy/schema.js';

export interface TrustOptions {
  policyFile?: string;
  requireSigned: boolean;
  trustedKeys: ReadonlyMap<string, KeyObject>;
  logger: Logger;
  /** The policy changed (presence announces requireSigned again). */
  onChange?(): void;
}

export class TrustState {
  private loader: PolicyLoader | undefined;
  private current: Trust;

  constructor(private readonly o: TrustOptions) {
    this.current = { keys: o.trustedKeys, requireSigned: o.requireSigned };
  }

  /** Loads the policy file; a PolicyError (one line naming the field) when it is invalid. */
  async start(): Promise<void> {
    if (!this.o.policyFile) return;
    this.loader = new PolicyLoader({
      file: this.o.policyFile,
      onReload: (policy) => {
        this.adopt(policy);
        this.o.logger.info({ policy: this.loader?.file }, 'policy reloaded');
        this.o.onChange?.();
      },
      onError: (err) => this.o.logger.error({ err: err.message }, 'policy reload failed; the previous policy stays in force'),
    });
    this.adopt(await this.loader.start());
  }

  trust(): Trust {
    return this.current;
  }

  policy(): Policy | undefined {
    return this.loader?.current;
  }

  /** Reloads the policy file now (as SIGHUP does); true when a new policy took effect. */
  reload(): Promise<boolean> {
    return this.loader ? this.loader.reload() : Promise.resolve(false);
  }

  close(): void {
    this.loader?.close();
  }

  private adopt(policy: Policy): void {
    const keys = new Map(this.o.trustedKeys);
    for (const [kid, text] of policy.publicKeys) keys.set(kid, parsePublicKey(text));
    this.current = { keys, requireSigned: this.o.requireSigned || policy.requireSigned };
  }
}
