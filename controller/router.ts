// Incoming messages: one function per topic kind the controller subscribes to (status, job events,
// errors notices), each payload decoded by protocol/ like every other. The topic's host level is
// what the broker's ACL vouches for, so it is used, never the payload's own `host` field.
import type { ControllerLogger } from './logger.js';
import { decodeEvent, decodeFrame, decodeNotice, decodePresence, isFrame, parseTopic, type AgentNotice, type FrameProblem, type JobEvent, type SignatureErrorCode } from '../protocol/index.js';
import type { PresenceView } from './presence.js';

/** Whatever follows a job id on this controller: a JobHandle, or a request sent for one. */
export interface JobFollower {
  onEvent(host: string, ev: JobEvent): void;
  /** The host says it had already received this id and did not run it again [cp-dedupe-1]. */
  duplicate?(host: string): void;
  /** The host refused the command's signature [cp-sig-5]: its only answer is a notice. */
  refused?(host: string, code: SignatureErrorCode, message: string): void;
  /** A terminal event that is not the host's [cp-sig-8]: settle the host as forged. */
  forged(host: string, why: string): void;
}

/** Where routed messages go; the fleet provides them. */
export interface Routes {
  presence: PresenceView;
  follower(jobId: string): JobFollower | undefined;
  /** A status message arrived (valid or not): the fleet's settle window counts from the last one. */
  statusSeen(): void;
  notice(n: AgentNotice): void;
  /** A frame that does not decode was dropped [cp-frame-4]: counted and logged, never thrown. */
  droppedFrame(drop: DroppedFrame): void;
  /** Why a terminal event on `topic` is forged, or undefined when it verifies (or the host does not sign). */
  forgery?(host: string, topic: string, ev: JobEvent, payload: Buffer): string | undefined;
  log?: ControllerLogger;
}

/** What a receiver says about a frame it dropped [cp-frame-4]. */
export interface DroppedFrame {
  host: string;
  job: string;
  problem: FrameProblem;
  message: string;
}

export function routeMessage(to: Routes, topic: string, payload: Buffer): void {
  const t = parseTopic(topic);
  if (t?.kind === 'status') routeStatus(to, t.host, payload);
  else if (t?.kind === 'job') routeJobEvent(to, t.host, t.job, payload, topic);
  else if (t?.kind === 'errors') routeNotice(to, t.host, payload);
}

/** Retained presence [cp-topic-4]; an empty payload clears the host. */
export function routeStatus(to: Routes, host: string, payload: Buffer): void {
  to.statusSeen();
  const p = decodePresence(payload);
  if (p) to.presence.apply(host, p);
  else if (payload.length === 0) to.presence.remove(host);
  else to.log?.debug({ host }, 'invalid status ignored');
}

/** A job event [cp-topic-3], for the job or request following that id (others are not ours). */
export function routeJobEvent(to: Routes, host: string, jobId: string, payload: Buffer, topic: string): void {
  const follower = to.follower(jobId);
  if (!follower) return;
  // One byte tells a frame from JSON [cp-frame-1]; frames are output, never terminal, so never signed.
  if (isFrame(payload)) {
    const f = decodeFrame(payload, host, jobId);
    return f.ok ? follower.onEvent(host, f.value) : to.droppedFrame({ host, job: jobId, problem: f.problem, message: f.message });
  }
  const ev = decodeEvent(payload);
  if (!ev) return void to.log?.debug({ host, job: jobId }, 'invalid job event ignored');
  const forged = to.forgery?.(host, topic, ev, payload);
  if (forged) {
    to.log?.warn({ host, job: jobId }, forged);
    return follower.forged(host, forged);
  }
  follower.onEvent(host, ev);
}

/** A notice [cp-topic-5]; a duplicate of one of our ids is that host's answer to it. */
export function routeNotice(to: Routes, host: string, payload: Buffer): void {
  const n = decodeNotice(payload);
  if (!n) return;
  if (n.type === 'duplicate' && n.job) to.follower(n.job)?.duplicate?.(host);
  // A command refused in verification gets no job event at all [cp-sig-5]; without this the host
  // would only be no-answer when the wait ran out.
  if (n.type === 'error' && n.job && (n.error === 'UNSIGNED' || n.error === 'UNKNOWN_KEY' || n.error === 'BAD_SIGNATURE')) to.follower(n.job)?.refused?.(host, n.error, n.message);
  to.notice(n);
}
