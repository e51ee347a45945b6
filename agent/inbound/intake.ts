// Every received message, in order: our own status (a late Will to repair), a retained command
// (never run), then judge()'s verdict handed on: notices to the errors topic, refusals and runs to
// the job launcher. Nothing a sender does may take the agent down.
import type { Logger } from 'pino';
import { topics, type AgentNotice } from '../../protocol/index.js';
import { judge, type ForgedVerdict, type JudgeEnv, type RejectVerdict, type RunVerdict } from './judge.js';

export type Notice = Omit<AgentNotice, 'v' | 'host' | 'ts'>;

export interface IntakeDeps {
  env: JudgeEnv;
  logger: Logger;
  /** False once the agent is stopping: commands are no longer taken. */
  accepting(): boolean;
  /** A live (not retained) status message on our own status topic. */
  ownStatus(payload: Buffer): void;
  notice(n: Notice): void;
  /** A signature refusal [cp-sig-5]: answered on the errors topic only, its id never recorded as seen. */
  forged(v: ForgedVerdict, n: Notice): void;
  reject(v: RejectVerdict): void;
  run(v: RunVerdict): void;
}

/** How much of an unreadable payload a notice quotes. */
const EXCERPT_BYTES = 200;

export class Intake {
  constructor(private readonly d: IntakeDeps) {}

  receive(topic: string, payload: Buffer, retained: boolean): void {
    try {
      // A retained status arrives when we (re)subscribe, before our own "online" of this connection
      // overwrites it: nothing to repair then. Only a live one can be a late Will.
      if (topic === topics.status(this.d.env.host)) return retained ? undefined : this.d.ownStatus(payload);
      if (retained) {
        // [cp-mqtt-2] a retained command would run again on every resubscribe (reboot loops): never run one.
        return this.d.notice({ type: 'error', error: 'RETAINED', message: 'commands must not be published with the retain flag; not run (clear it with an empty retained message)', topic, excerpt: excerpt(payload) });
      }
      if (this.d.accepting()) this.accept(topic, payload);
    } catch (err) {
      // Log and keep serving.
      this.d.logger.error({ err, topic }, 'failed to handle a message');
    }
  }

  private accept(topic: string, payload: Buffer): void {
    const v = judge(this.d.env, topic, payload);
    switch (v.kind) {
      case 'ignore':
        return;
      case 'notice':
        return this.d.notice({ type: 'error', error: v.error, message: v.message, topic, excerpt: excerpt(payload) });
      case 'forged':
        return this.d.forged(v, { type: 'error', error: v.error, message: v.message, ...(v.id ? { job: v.id } : {}), topic, excerpt: excerpt(payload) });
      case 'duplicate':
        // [cp-dedupe-1] a redelivered or retried id never runs twice; its first run's events stand.
        return this.d.notice({ type: 'duplicate', job: v.id, message: `job ${v.id} was already received; not run again (use replay to get its events)`, topic });
      case 'reject':
        return this.d.reject(v);
      case 'run':
        return this.d.run(v);
    }
  }
}

function excerpt(payload: Buffer): string {
  return payload.subarray(0, EXCERPT_BYTES).toString('utf8');
}
