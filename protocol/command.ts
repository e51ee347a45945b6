// The command envelope [cp-env-*]: the one schema every sender's payload is validated against.
import { z } from 'zod';
import { JOB_ID_RE } from './names.js';
import { MAX_TTL_MS } from './limits.js';
import { SignatureSchema } from './signature.js';
import { OUTPUT_ENCODINGS, OUT_FEATURE } from './frames.js';
import { FOLD_FEATURE } from './fold.js';
import { lazySchema } from './lazy-schema.js';

/**
 * The optional envelope fields an agent lists in the `features` of its online presence: an agent
 * that predates one refuses it as an unknown field [cp-env-10], so a sender asks only hosts that
 * list it.
 */
export const ENVELOPE_FEATURES = [OUT_FEATURE, FOLD_FEATURE] as const;

/** Arguments and options are any JSON; each command's own schema checks them [cp-env-3]. */
const argValue = () => z.unknown();

export const CommandSchema = lazySchema(() => z
  .object({
    /** Protocol version; absent means 1 [cp-env-1]. */
    v: z.literal(1).optional(),
    /** Job id; the agent assigns one when absent and reports it in the first event [cp-env-2]. */
    id: z.string().regex(JOB_ID_RE, 'id must match [A-Za-z0-9_.-]{1,64}').optional(),
    /** Command name, e.g. `exec` or a registered custom command [cp-env-3]. */
    cmd: z.string().min(1).max(64),
    /** Positional arguments [cp-env-3]. */
    args: z.array(argValue()).max(4096).default([]),
    /** Named options of the command [cp-env-3]. */
    opts: z.record(z.string(), argValue()).default({}),
    /** Who sent it: a controller id or any tag [cp-env-4]. */
    from: z.string().max(128).optional(),
    /** When it was sent, epoch milliseconds [cp-env-5]. */
    sentAt: z.number().int().nonnegative().optional(),
    /** Milliseconds after sentAt past which the command must not run [cp-env-5]. */
    ttlMs: z.number().int().positive().max(MAX_TTL_MS).optional(),
    /** Milliseconds the job may run before its process tree is killed [cp-env-7]. */
    timeoutMs: z.number().int().positive().optional(),
    /** Working directory for this command only [cp-env-8]. */
    cwd: z.string().min(1).max(4096).optional(),
    /** Whose current directory the command uses and `cd` moves; absent: the shared one [cp-env-12]. */
    session: z.string().regex(JOB_ID_RE, 'session must match [A-Za-z0-9_.-]{1,64}').optional(),
    /**
     * Asks for one event instead of two when the job ends at once: its terminal event, seq 0,
     * carrying what `accepted` would have said [cp-fold-1]. Absent or false: today's events exactly.
     */
    fold: z.boolean().optional(),
    /** How the job's output events are written: `raw` frames, or JSON events (absent, `json`) [cp-env-13]. */
    out: z.enum(OUTPUT_ENCODINGS).optional(),
    /** Fleet topic only: which hosts must run it [cp-fleet-1]. */
    target: z.string().min(1).max(1024).optional(),
    /** Signature by a controller key over the canonical form of the command [cp-env-9] [cp-sig-2]. */
    sig: SignatureSchema.optional(),
  })
  .strict()); // unknown fields are BAD_ENVELOPE, never silently ignored [cp-env-10]

export type Command = z.output<typeof CommandSchema>;
export type CommandInput = z.input<typeof CommandSchema>;

/** The envelope fields a plain-text command may set with key=value words [cp-text-4]. */
export const ENVELOPE_TEXT_KEYS = ['id', 'from', 'sentAt', 'ttlMs', 'timeoutMs', 'cwd', 'session', 'out', 'fold', 'target', 'v'] as const;
