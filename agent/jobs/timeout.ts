// A job's timeout. Node's timers fire at once past 2^31-1 ms (TimeoutOverflowWarning, see the
// setTimeout docs): a longer timeout is re-armed in steps instead.

const MAX_TIMER_MS = 2 ** 31 - 1;

export function longTimeout(fn: () => void, ms: number): { clear(): void } {
  let t: NodeJS.Timeout;
  const arm = (left: number) => {
    t = setTimeout(() => (left > MAX_TIMER_MS ? arm(left - MAX_TIMER_MS) : fn()), Math.min(left, MAX_TIMER_MS));
  };
  arm(ms);
  return { clear: () => clearTimeout(t) };
}
