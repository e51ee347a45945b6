// Job events [cp-evt-*]: everything an agent says about a job, on conplyent/<host>/job/<id>.
import { z } from 'zod';
import { ERROR_CODE_NAMES } from './codes.js';
import { SignatureSchema } from './signature.js';
import { lazySchema } from './lazy-schema.js';

const base = () => ({
  v: z.literal(1),
  host: z.string(),
  job: z.string(),
  /** 0, 1, 2… per job; receivers drop duplicates and detect gaps with it [cp-evt-1]. */
  seq: z.number().int().nonnegative(),
  /** Agent time of the event, epoch ms. */
  ts: z.number(),
});

/** Terminal events carry the agent's signature when it has a key [cp-sig-8]. */
const signed = () => ({ sig: SignatureSchema.optional() });

/** What `accepted` says about a job, whether as its own event or folded into the terminal [cp-fold-2]. */
const acceptedFields = () => ({
  cmd: z.string(),
  args: z.array(z.unknown()),
  kind: z.enum(['foreground', 'background']),
  from: z.string().optional(),
  /** Agent start counter: lets a receiver tell jobs of different agent lives apart. */
  boot: z.number().int(),
  /** Set when `args` were shortened to keep the event under the size limit [cp-limit-3]. */
  argsOmitted: z.string().optional(),
});

/** First event of every job that runs; a refused command gets a lone `error` instead [cp-evt-2]. */
export const AcceptedEvent = lazySchema(() => z.object({ ...base(), type: z.literal('accepted'), ...acceptedFields() }));

/**
 * A folded terminal event (seq 0, asked for with `fold`) carries the job's `accepted` here instead
 * of a separate event: it ended before its `accepted` was published [cp-fold-2].
 */
export const FoldedAccepted = lazySchema(() => z.object(acceptedFields()));
const folded = () => ({ accepted: FoldedAccepted.optional() });

export const OutputEvent = lazySchema(() => z.object({
  ...base(),
  type: z.literal('output'),
  stream: z.enum(['stdout', 'stderr', 'update']),
  /** The chunk; raw bytes are base64 when `enc` says so [cp-evt-3]. */
  data: z.string(),
  enc: z.literal('base64').optional(),
}));

export const ResultEvent = lazySchema(() => z.object({
  ...base(),
  type: z.literal('result'),
  /** 0 success; exec: the process's own exit code; null when killed by a signal [cp-evt-6]. */
  code: z.number().int().nullable(),
  signal: z.string().nullable().optional(),
  durationMs: z.number(),
  /** How many output events the job sent, so a receiver knows it has them all [cp-evt-4]. */
  events: z.number().int().nonnegative(),
  /** The return value of a foreground command (a listing, file info, os facts…). */
  value: z.unknown().optional(),
  timedOut: z.boolean().optional(),
  killed: z.boolean().optional(),
  /** Set instead of `value` when the value would exceed the event limit: never truncated silently [cp-limit-3]. */
  valueOmitted: z.string().optional(),
  ...folded(),
  ...signed(),
}));

export const ErrorEvent = lazySchema(() => z.object({
  ...base(),
  type: z.literal('error'),
  /** -1 INVALID_PARAMETER or 1 ERROR [cp-evt-6]. */
  code: z.number().int(),
  error: z.enum(ERROR_CODE_NAMES),
  message: z.string(),
  durationMs: z.number().optional(),
  events: z.number().int().nonnegative().optional(),
  ...folded(),
  ...signed(),
}));

/** Events dropped because the spool bound was exceeded: never a silent hole [cp-evt-7]. */
export const GapEvent = lazySchema(() => z.object({
  ...base(),
  type: z.literal('gap'),
  droppedEvents: z.number().int().nonnegative(),
  droppedBytes: z.number().int().nonnegative(),
  reason: z.string(),
}));

/** The agent died while the job ran; published once by its next start [cp-evt-8]. */
export const LostEvent = lazySchema(() => z.object({
  ...base(),
  type: z.literal('lost'),
  code: z.number().int(),
  message: z.string(),
  boot: z.number().int(),
  ...signed(),
}));

export const JobEventSchema = lazySchema(() => z.discriminatedUnion('type', [
  AcceptedEvent,
  OutputEvent,
  ResultEvent,
  ErrorEvent,
  GapEvent,
  LostEvent,
]));

export type JobEvent = z.infer<typeof JobEventSchema>;
export type JobEventType = JobEvent['type'];
export type ResultEventT = z.infer<typeof ResultEvent>;
export type ErrorEventT = z.infer<typeof ErrorEvent>;
export type OutputEventT = z.infer<typeof OutputEvent>;
export type AcceptedEventT = z.infer<typeof AcceptedEvent>;
export type FoldedAcceptedT = z.infer<typeof FoldedAccepted>;

/** Terminal events end a job; each job has exactly one [cp-evt-5]. */
export const TERMINAL_TYPES: ReadonlySet<JobEventType> = new Set(['result', 'error', 'lost']);

export function isTerminal(ev: Pick<JobEvent, 'type'>): boolean {
  return TERMINAL_TYPES.has(ev.type);
}

/** Distributes Omit over the union so each event keeps its own fields. */
type DistOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** An event as a producer writes it: the agent fills v, host, job, seq and ts. */
export type JobEventBody = DistOmit<JobEvent, 'v' | 'host' | 'job' | 'seq' | 'ts'>;

/**
 * Notices on conplyent/<host>/errors, for payloads with no readable id and for duplicates [cp-topic-5];
 * `dropped` is published by the embedded broker for a command it could not queue [cp-queue-1].
 */
export const AgentNoticeSchema = lazySchema(() => z.object({
  v: z.literal(1),
  host: z.string(),
  ts: z.number(),
  type: z.enum(['error', 'duplicate', 'dropped']),
  error: z.enum(ERROR_CODE_NAMES).optional(),
  message: z.string(),
  /** The job id when one could be read (duplicates, dropped commands). */
  job: z.string().optional(),
  /** The topic the payload came in on. */
  topic: z.string(),
  /** The first 200 bytes of the payload, for the sender to recognise it. */
  excerpt: z.string().optional(),
}));
export type AgentNotice = z.infer<typeof AgentNoticeSchema>;
