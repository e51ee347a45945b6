// Turns the controller's HostResult values into plain, flow-friendly objects (strings, not Buffers).
'use strict';

/** States in which the command did not run to an exit code on that host. */
const NOT_RUN = new Set(['error', 'rejected', 'offline', 'no-answer', 'expired', 'lost', 'forged']);

function plainResult(r) {
  const out = {
    host: r.host,
    state: r.state,
    code: r.code,
    stdout: r.stdout ? r.stdout.toString('utf8') : '',
    stderr: r.stderr ? r.stderr.toString('utf8') : '',
    durationMs: r.durationMs,
  };
  if (r.value !== undefined) out.value = r.value;
  if (r.signal) out.signal = r.signal;
  if (r.error) out.error = { code: r.error.code, message: r.error.message };
  if (r.timedOut) out.timedOut = true;
  if (r.gap) out.gap = r.gap;
  return out;
}

/** The combined message of output 3, and the summary behind the status badge. */
function summarize(results, expected) {
  const done = results.filter((r) => !NOT_RUN.has(r.state));
  return {
    total: Math.max(expected.length, results.length),
    done: done.length,
    ok: results.filter((r) => r.state === 'ok').map((r) => r.host),
    failed: results.filter((r) => r.state === 'failed').map((r) => r.host),
    notRun: results.filter((r) => NOT_RUN.has(r.state)).map((r) => r.host),
    notAnswered: results.filter((r) => r.state === 'no-answer' || r.state === 'offline').map((r) => r.host),
  };
}

/** "2 of 3 hosts did not run it: web-3 offline (…)" for the error path; undefined when every host ran it. */
function notRunError(results) {
  const bad = results.filter((r) => NOT_RUN.has(r.state));
  if (bad.length === 0) return undefined;
  const what = bad.map((r) => `${r.host} ${r.state}${r.error ? ` (${r.error.code}: ${r.error.message})` : ''}`).join('; ');
  return `${bad.length} of ${results.length} host${results.length === 1 ? '' : 's'} did not run the command: ${what}`;
}

module.exports = { plainResult, summarize, notRunError, NOT_RUN };
