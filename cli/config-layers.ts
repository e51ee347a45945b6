// Looks one setting up in flags > env > config file and converts it, remembering where it came from
// so that a bad value is reported against the place the user has to fix.
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseLabels } from '../protocol/index.js';
import { ConfigError } from './config-error.js';
import type { ConfigFile } from './config-file.js';

export type Kind = 'string' | 'path' | 'number' | 'bool' | 'labels' | 'list' | 'modules';

export interface FieldSpec {
  /** Long flag as typed, e.g. `--state-dir`; read from commander's camelCased attribute. */
  flag?: string;
  env?: string;
  /** Dotted path in the config file, e.g. `agent.stateDir`. */
  file?: string;
  kind: Kind;
  /** Multiplier from the flag/env unit to the typed unit (seconds on the command line, ms inside). */
  scale?: number;
}

export interface Layers {
  flags: Record<string, unknown>;
  env: NodeJS.ProcessEnv;
  file?: ConfigFile;
  filePath?: string;
}

export interface Picked {
  value: unknown;
  source: string;
}

/** `--state-dir` → `stateDir`, as commander names option attributes. */
export function attributeName(flag: string): string {
  return flag.replace(/^--/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

function fileValue(file: ConfigFile | undefined, path: string): unknown {
  let cur: unknown = file;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** The first layer that sets the field, converted to its kind; undefined when no layer sets it. */
export function pick(layers: Layers, spec: FieldSpec): Picked | undefined {
  if (spec.flag) {
    const v = layers.flags[attributeName(spec.flag)];
    if (v !== undefined && !(Array.isArray(v) && v.length === 0)) {
      const source = `flag ${spec.flag}`;
      return { value: convert(v, spec, source, 'cli', process.cwd()), source };
    }
  }
  if (spec.env) {
    const v = layers.env[spec.env];
    if (v !== undefined && v !== '') {
      const source = `env ${spec.env}`;
      return { value: convert(v, spec, source, 'cli', process.cwd()), source };
    }
  }
  if (spec.file && layers.file) {
    const v = fileValue(layers.file, spec.file);
    if (v !== undefined) {
      const source = `config file ${layers.filePath}: ${spec.file}`;
      return { value: convert(v, spec, source, 'file', dirname(layers.filePath ?? '.')), source };
    }
  }
  return undefined;
}

function fail(source: string, msg: string): never {
  throw new ConfigError(`${source}: ${msg}`);
}

function splitList(v: unknown): string[] {
  if (Array.isArray(v)) return v.map(String);
  return String(v)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

// Paths in a config file are relative to the file, so the file can be moved with what it names.
function absPath(p: string, base: string): string {
  return isAbsolute(p) ? p : resolve(base, p);
}

function convert(v: unknown, spec: FieldSpec, source: string, from: 'cli' | 'file', base: string): unknown {
  switch (spec.kind) {
    case 'string':
      return String(v);
    case 'path':
      return absPath(String(v), base);
    case 'number': {
      if (from === 'file') return v; // the file schema already checked the type
      const s = String(v).trim();
      if (!/^\d+(\.\d+)?$/.test(s)) fail(source, `expected a non-negative number, got "${s}"`);
      return Math.round(Number(s) * (spec.scale ?? 1));
    }
    case 'bool': {
      if (typeof v === 'boolean') return v;
      const s = String(v).trim().toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(s)) return true;
      if (['0', 'false', 'no', 'off'].includes(s)) return false;
      return fail(source, `expected true or false, got "${s}"`);
    }
    case 'labels': {
      const pairs =
        from === 'file' ? Object.entries(v as Record<string, string>).map(([k, val]) => `${k}=${val}`) : splitList(v);
      try {
        return parseLabels(pairs);
      } catch (err) {
        return fail(source, (err as Error).message);
      }
    }
    case 'list':
      return splitList(v);
    case 'modules':
      // A plugin is a path (resolved here) or a bare package name (left for import() to resolve).
      return splitList(v).map((m) => (m.startsWith('.') || m.includes('/') || m.includes('\\') ? absPath(m, base) : m));
  }
}
