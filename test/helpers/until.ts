// The one bounded wait of the suites that watch state change (presence, reconnects): poll a check
// until it holds, and fail naming what never happened instead of hanging the suite.

/** Resolves once `check()` is true; rejects with "timed out waiting for <what>" after `ms`. */
export async function until(what: string, check: () => boolean, ms = 30_000, everyMs = 25): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
