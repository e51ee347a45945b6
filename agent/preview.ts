// Arguments shown back to people (`jobs`, an oversized `accepted`): an upload chunk's 100 kB of
// base64 would otherwise put every event that echoes it over the event size limit. Cut with a
// visible marker, never silently [cp-limit-3].

const ARG_PREVIEW = 100;
const MAX_ARGS_SHOWN = 10;

/** At most 10 arguments of at most 100 characters each, the rest marked with their length or count. */
export function previewArgs(args: unknown[]): unknown[] {
  const shown = args.slice(0, MAX_ARGS_SHOWN).map((a) => {
    const text = typeof a === 'string' ? a : JSON.stringify(a) ?? String(a);
    if (text.length <= ARG_PREVIEW) return a;
    return `${text.slice(0, ARG_PREVIEW)}…(${text.length} chars)`;
  });
  if (args.length > MAX_ARGS_SHOWN) shown.push(`…(${args.length - MAX_ARGS_SHOWN} more arguments)`);
  return shown;
}
