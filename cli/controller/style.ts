// Terminal styling: colors only on a TTY and never with NO_COLOR (https://no-color.org).
import type { Writable } from 'node:stream';

export interface Styler {
  enabled: boolean;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
  /** A stable color per host name so interleaved output stays readable. */
  host(name: string): string;
}

const HOST_COLORS = [36, 35, 34, 32, 33, 96, 95, 94, 92, 93];

export function colorsFor(stream: Writable, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return (stream as { isTTY?: boolean }).isTTY === true;
}

export function styler(enabled: boolean): Styler {
  const wrap = (code: number) => (s: string) => (enabled ? `\x1b[${code}m${s}\x1b[0m` : s);
  return {
    enabled,
    red: wrap(31),
    green: wrap(32),
    yellow: wrap(33),
    dim: wrap(2),
    bold: wrap(1),
    host(name: string) {
      if (!enabled) return name;
      let h = 0;
      for (const ch of name) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
      return `\x1b[${HOST_COLORS[h % HOST_COLORS.length]}m${name}\x1b[0m`;
    },
  };
}
