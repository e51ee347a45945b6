// Percentiles and timing helpers: every figure in the report comes through here, so they all mean the same.

/** The p-th percentile (0-100) by nearest rank; NaN for no samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

export const p50 = (s: readonly number[]) => percentile(s, 50);
export const p99 = (s: readonly number[]) => percentile(s, 99);

/** Milliseconds from a high-resolution clock. */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/**
 * Times `n` sequential runs of `fn` after `warmup` untimed ones; returns the samples in ms. With
 * `lost`, a run that fails is passed there and left out of the samples instead of ending the run
 * (a message a cluster lost); the caller reports it beside the figure.
 */
export async function timeRuns(n: number, warmup: number, fn: () => Promise<unknown>, lost?: (e: Error) => void): Promise<number[]> {
  const call = async (): Promise<boolean> => {
    if (!lost) return (await fn(), true);
    try {
      await fn();
      return true;
    } catch (e) {
      lost(e as Error);
      return false;
    }
  };
  for (let i = 0; i < warmup; i++) await call();
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = nowMs();
    if (await call()) out.push(nowMs() - t);
  }
  return out;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Rejects after `ms` with a message naming what was awaited: no benchmark loop waits forever. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    t = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(t));
}

/** Fixed-precision number for tables: 3 significant digits, no exponent. */
export function fmt(v: number | null | undefined): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  const a = Math.abs(v);
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toFixed(3);
}
