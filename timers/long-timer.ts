// Node fires a setTimeout at once when its delay is past 2^31-1 ms (about 24.8 days; it only warns
// TimeoutOverflowWarning, https://nodejs.org/api/timers.html#settimeoutcallback-delay-args). Job
// timeouts and waits derived from a user's timeoutMs can be longer: re-arm in steps. Shared by the
// agent (job timeouts that kill) and the controller (how long it waits), which never import each other.
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface LongTimer {
  clear(): void;
}

export interface LongTimerOptions {
  /** Do not keep the process alive for this timer alone (the controller's deadlines never keep a script alive). */
  unref?: boolean;
}

/** setTimeout for any delay. */
export function longTimer(fn: () => void, ms: number, options: LongTimerOptions = {}): LongTimer {
  let t: NodeJS.Timeout;
  const arm = (left: number) => {
    t = setTimeout(() => (left > MAX_TIMER_MS ? arm(left - MAX_TIMER_MS) : fn()), Math.min(left, MAX_TIMER_MS));
    if (options.unref) t.unref();
  };
  arm(ms);
  return { clear: () => clearTimeout(t) };
}
