// How the result value of a built-in reads for people: `ls` as a listing, `os_info` and `hash` as
// aligned key/value lines, what a file or job command did as one sentence. --json keeps the raw value.
// Anything else (custom commands, unexpected shapes) prints as JSON (formatValue).
import { table } from './output.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Strings print as they are; other values as compact JSON, or pretty JSON when long. */
export function formatValue(value: unknown): string {
  if (typeof value === 'string') return value;
  const compact = JSON.stringify(value);
  return compact.length <= 100 ? compact : JSON.stringify(value, null, 2);
}

function bytes(n: unknown): string {
  if (typeof n !== 'number') return String(n);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) (v /= 1024), i++;
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${units[i]}`;
}

function duration(sec: unknown): string {
  if (typeof sec !== 'number') return String(sec);
  const d = Math.floor(sec / 86400);
  const h = Math.floor((sec % 86400) / 3600);
  const m = Math.floor((sec % 3600) / 60);
  return d ? `${d}d ${h}h ${m}m` : h ? `${h}h ${m}m` : `${m}m ${Math.floor(sec % 60)}s`;
}

function keyValues(pairs: [string, string][]): string {
  return table(pairs.map(([k, v]) => [`${k}:`, v])).replace(/\n$/, '');
}

/** `ls`: directories with a trailing slash, links with @, others with ?, like `ls -F`. */
function listing(v: Obj): string | undefined {
  const arr = (k: string) => (Array.isArray(v[k]) ? (v[k] as string[]) : []);
  if (!Array.isArray(v.dirs) || !Array.isArray(v.files)) return undefined;
  const names = [...arr('dirs').map((d) => `${d}/`), ...arr('files'), ...arr('links').map((l) => `${l}@`), ...arr('others').map((o) => `${o}?`)];
  names.sort((a, b) => a.localeCompare(b));
  return names.length ? names.join('\n') : `(empty: ${String(v.path)})`;
}

function osInfo(v: Obj): string {
  const cpus = isObj(v.cpus) ? `${String(v.cpus.count)} × ${String(v.cpus.model)}` : String(v.cpus);
  const load = Array.isArray(v.loadavg) ? (v.loadavg as number[]).map((x) => x.toFixed(2)).join(' ') : String(v.loadavg);
  return keyValues([
    ['os', `${String(v.os)} ${String(v.release)} (${String(v.platform)}, ${String(v.arch)})`],
    ['hostname', String(v.hostname)],
    ['cpus', cpus],
    ['memory', `${bytes(v.freemem)} free of ${bytes(v.totalmem)}`],
    ['uptime', duration(v.uptime)],
    ['load', load],
    ['node', String(v.nodeVersion)],
  ]);
}

const renderers: Record<string, (v: Obj) => string | undefined> = {
  ls: listing,
  os_info: osInfo,
  hash: (v) => keyValues([['path', String(v.path)], ['size', bytes(v.size)], ['sha256', String(v.sha256)]]),
  // rdfile's bytes are the output; its value says what they were (on stderr when they went to stdout raw).
  rdfile: (v) => `${String(v.path)}: ${v.bytes === v.size ? bytes(v.size) : `${bytes(v.bytes)} of ${bytes(v.size)}`}, sha256 ${String(v.sha256)}`,
  wrfile: (v) => `wrote ${bytes(v.bytes)} to ${String(v.path)} (now ${bytes(v.size)})`,
  touch: (v) => `${v.created ? 'created' : 'updated the times of'} ${String(v.path)}`,
  rm: (v) => (v.removed ? `removed ${String(v.path)}` : `${String(v.path)} was not there`),
  kill: (v) => `sent ${String(v.signal)} to job ${String(v.job)}`,
  is_alive: (v) => `job ${String(v.job)} ${v.alive ? 'is running' : 'has ended'}`,
  send_input: (v) =>
    `wrote ${String(v.bytes)} byte${v.bytes === 1 ? '' : 's'} to job ${String(v.job)}${v.ended ? ' and closed its stdin' : ''}${v.flushed === false ? ' (the program has not read it yet)' : ''}`,
  ping: () => 'pong',
  reboot: (v) => `${String(v.action)} in ${String(v.delaySec)} s`,
  shutdown: (v) => `${String(v.action)} in ${String(v.delaySec)} s`,
  close_server: () => 'the agent is closing',
};

/** The value of command `cmd` for people; falls back to formatValue for shapes it does not know. */
export function renderValue(cmd: string, value: unknown): string {
  const r = Object.hasOwn(renderers, cmd) ? renderers[cmd] : undefined;
  return (r && isObj(value) ? r(value) : undefined) ?? formatValue(value);
}
