// Every topic string is built and parsed here; no other module concatenates topic levels.
import { isHostName, isJobId } from './names.js';

export const ROOT = 'conplyent';

/** The reserved host level of the fleet-wide command topic [cp-topic-2]. Not a valid host name. */
export const FLEET_LEVEL = '_all';

export const topics = {
  /** Commands for one host [cp-topic-1]. */
  cmd: (host: string) => `${ROOT}/${host}/cmd`,
  /** Commands for the whole fleet; each agent evaluates the payload's target [cp-topic-2]. */
  fleetCmd: () => `${ROOT}/${FLEET_LEVEL}/cmd`,
  /** Every event of one job [cp-topic-3]. */
  job: (host: string, job: string) => `${ROOT}/${host}/job/${job}`,
  /** Retained presence of one host [cp-topic-4]. */
  status: (host: string) => `${ROOT}/${host}/status`,
  /** Errors for payloads that carry no readable job id, and duplicate notices [cp-topic-5]. */
  errors: (host: string) => `${ROOT}/${host}/errors`,

  /** Subscription filters. */
  allStatus: () => `${ROOT}/+/status`,
  jobAllHosts: (job: string) => `${ROOT}/+/job/${job}`,
  jobsOfHost: (host: string) => `${ROOT}/${host}/job/+`,
  allErrors: () => `${ROOT}/+/errors`,
  everything: () => `${ROOT}/#`,
} as const;

export type ParsedTopic =
  | { kind: 'cmd'; host: string }
  | { kind: 'fleetCmd' }
  | { kind: 'job'; host: string; job: string }
  | { kind: 'status'; host: string }
  | { kind: 'errors'; host: string };

/** Parses a topic of the contract; undefined for anything else (including invalid names) [cp-topic-6]. */
export function parseTopic(topic: string): ParsedTopic | undefined {
  const parts = topic.split('/');
  if (parts[0] !== ROOT || parts.length < 3) return undefined;
  const host = parts[1];
  if (parts.length === 3 && parts[2] === 'cmd') {
    if (host === FLEET_LEVEL) return { kind: 'fleetCmd' };
    return isHostName(host) ? { kind: 'cmd', host } : undefined;
  }
  if (!isHostName(host)) return undefined;
  if (parts.length === 3 && parts[2] === 'status') return { kind: 'status', host };
  if (parts.length === 3 && parts[2] === 'errors') return { kind: 'errors', host };
  if (parts.length === 4 && parts[2] === 'job' && isJobId(parts[3])) return { kind: 'job', host, job: parts[3] };
  return undefined;
}
