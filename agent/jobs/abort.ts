// Why a job's signal was aborted: the reason every handler reads from ctx.signal.reason, and the
// grace a handler gets to honour it.

export interface AbortReason {
  kind: 'kill' | 'timeout' | 'close';
  signal?: NodeJS.Signals;
}

/** How long a handler may ignore its abort signal before the job is ended without it. */
export const ABORT_GRACE_MS = 5_000;

/** The reason of an aborted signal, undefined while it is not aborted. */
export function abortReason(signal: AbortSignal): AbortReason | undefined {
  return signal.aborted ? (signal.reason as AbortReason) : undefined;
}
