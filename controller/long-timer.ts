// Node fires a setTimeout at once when its delay is past 2^31-1 ms (about 24.8 days; it only warns
// TimeoutOverflowWarning). Waits derived from a user's timeoutMs can be longer: re-arm in steps.
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface LongTimer {
  clear(): void;
}

/** setTimeout for any delay; unref'd like the controller's other deadlines (they never keep a script alive). */
export function longTimer(fn: () => void, ms: number): LongTimer {
  let t: NodeJS.Timeout;
  const arm = (left: number) => {
    t = setTimeout(() => (left > MAX_TIMER_MS ? arm(left - MAX_TIMER_MS) : fn()), Math.min(left, MAX_TIMER_MS));
    t.unref?.();
  };
  arm(ms);
  return { clear: () => clearTimeout(t) };
}
