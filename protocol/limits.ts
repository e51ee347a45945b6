// Every bound the wire has, in one place, so topics.md, the agent and the controller agree.
// Unbounded input is how brokers fall over: aedes had no packet size limit for years (aedes #831).

/** Largest command payload an agent accepts, in bytes [cp-limit-1]. */
export const MAX_COMMAND_BYTES = 512 * 1024;

/** Largest raw output chunk put into one event; base64 makes it at most 4/3 of this on the wire [cp-limit-2]. */
export const MAX_CHUNK_BYTES = 64 * 1024;

/** Largest event payload an agent publishes, comfortably under every broker's default limit [cp-limit-3]. */
export const MAX_EVENT_BYTES = 256 * 1024;

/**
 * Most bytes of arguments (as JSON) an `accepted` echoes in full [cp-limit-5]; longer ones are
 * shortened. The sender already holds them, and a `put` chunk echoed whole doubled its traffic.
 */
export const MAX_ECHO_ARGS_BYTES = 4 * 1024;

/** Longest TTL a command may ask for: bounds how long seen ids must be remembered [cp-env-5]. */
export const MAX_TTL_MS = 24 * 60 * 60 * 1000;

/** TTL applied when a command carries sentAt but no ttlMs [cp-env-5]. */
export const DEFAULT_TTL_MS = 5 * 60 * 1000;

/** Allowed clock difference between sender and agent [cp-env-6]. */
export const DEFAULT_CLOCK_SKEW_MS = 5_000;

/** Deepest nesting of arrays and objects in a command payload [cp-limit-4]. */
export const MAX_JSON_DEPTH = 64;

/** Longest host name, job id or label value that becomes part of a topic or a selector. */
export const MAX_NAME_LENGTH = 64;
