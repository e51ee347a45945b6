// Terminal styling: colors only on a TTY and never with NO_COLOR (https://no-color.org).
import type { Writable } from 'node:stream';

export interface Styler {
  enabled: boolean;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
  /** A color per host, assigned in the order hosts first print, so interleaved output stays readable. */
  host(name: string): string;
}

// Assigned, not hashed: a hash puts two of a dozen hosts on the same color more often than not
// (the birthday problem). 14 distinct colors before any repeats; no red, which means failure here.
const HOST_COLORS = ['36', '35', '34', '32', '33', '96', '95', '94', '92', '93', '38;5;208', '38;5;141', '38;5;43', '38;5;170'];

export function colorsFor(stream: Writable, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return (stream as { isTTY?: boolean }).isTTY === true;
}

export function styler(enabled: boolean): Styler {
  const wrap = (code: number | string) => (s: string) => (enabled ? `\x1b[${code}m${s}\x1b[0m` : s);
  const assigned = new Map<string, string>();
  return {
    enabled,
    red: wrap(31),
    green: wrap(32),
    yellow: wrap(33),
    dim: wrap(2),
    bold: wrap(1),
    host(name: string) {
      if (!enabled) return name;
      let code = assigned.get(name);
      if (code === undefined) assigned.set(name, (code = HOST_COLORS[assigned.size % HOST_COLORS.length]!));
      return wrap(code)(name);
    },
  };
}
