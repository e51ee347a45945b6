/** Wire protocol version carried as `v` in every payload [cp-env-1]. */
export const PROTOCOL_VERSION = 1 as const;
