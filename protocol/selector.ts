// Target selectors [cp-fleet-*]: one grammar shared by the agent (fleet topic) and the controller (expected set).
//   selector := term ("," term)*
//   term     := "all" | key "=" value | glob
// A host matches when it matches at least one name/glob term (or there are none) AND every label term.
import { LABEL_KEY_RE, LABEL_VALUE_RE } from './names.js';

/** A compiled glob term; RegExp fits this shape too. */
export interface GlobPattern {
  test(host: string): boolean;
}

export interface Selector {
  readonly all: boolean;
  readonly names: readonly string[];
  readonly globs: readonly GlobPattern[];
  readonly labels: Readonly<Record<string, string>>;
  readonly source: string;
}

const GLOB_RE = /^[A-Za-z0-9_.*?[\]-]{1,64}$/;

/** One position of a glob: `*` (any run), or a test for exactly one character. */
type GlobToken = { star: true } | { star: false; one: (ch: string) => boolean };

/**
 * Compiles a glob to tokens matched by a table walk, O(pattern x host), never by a backtracking
 * RegExp: `^.*.*.*…Z$` is exponential in its stars, and every agent evaluates every fleet target,
 * so one command with 60 stars froze the whole fleet. `[set]` keeps RegExp class syntax.
 */
export function compileGlob(glob: string): GlobPattern {
  const tokens: GlobToken[] = [];
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i];
    if (ch === '*') {
      if (!tokens.at(-1)?.star) tokens.push({ star: true });
    } else if (ch === '?') {
      tokens.push({ star: false, one: () => true });
    } else if (ch === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end < 0) throw new TypeError('unterminated [');
      const cls = new RegExp(`^${glob.slice(i, end + 1)}$`); // one character class: nothing to backtrack
      tokens.push({ star: false, one: (c) => cls.test(c) });
      i = end;
    } else {
      tokens.push({ star: false, one: (c) => c === ch });
    }
  }
  return {
    test(host: string): boolean {
      // reach[j]: the tokens so far can match host[0, j).
      let reach = new Array<boolean>(host.length + 1).fill(false);
      reach[0] = true;
      for (const t of tokens) {
        const next = new Array<boolean>(host.length + 1).fill(false);
        if (t.star) {
          let any = false;
          for (let j = 0; j <= host.length; j++) next[j] = any ||= reach[j];
        } else {
          for (let j = 0; j < host.length; j++) if (reach[j] && t.one(host[j])) next[j + 1] = true;
        }
        reach = next;
      }
      return reach[host.length];
    },
  };
}

/** Parses a selector string; throws a TypeError that names the bad term [cp-fleet-2]. */
export function parseSelector(source: string): Selector {
  const terms = source.split(',').map((t) => t.trim()).filter((t) => t.length > 0);
  if (terms.length === 0) throw new TypeError('target is empty: give a host, a glob like web-*, a label like role=web, or all');
  let all = false;
  const names: string[] = [];
  const globs: GlobPattern[] = [];
  const labels: Record<string, string> = {};
  for (const term of terms) {
    if (term === 'all' || term === '*') {
      all = true;
    } else if (term.includes('=')) {
      const eq = term.indexOf('=');
      const key = term.slice(0, eq);
      const value = term.slice(eq + 1);
      if (!LABEL_KEY_RE.test(key) || !LABEL_VALUE_RE.test(value)) throw new TypeError(`target term "${term}" is not a valid label key=value`);
      labels[key] = value;
    } else if (/[*?[]/.test(term)) {
      if (!GLOB_RE.test(term)) throw new TypeError(`target term "${term}" is not a valid glob`);
      try {
        globs.push(compileGlob(term));
      } catch {
        throw new TypeError(`target term "${term}" is not a valid glob`);
      }
    } else {
      if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(term)) throw new TypeError(`target term "${term}" is not a valid host name`);
      names.push(term);
    }
  }
  return { all, names, globs, labels, source };
}

/** Whether a host with these labels is selected [cp-fleet-3]. */
export function matchesSelector(sel: Selector, host: string, labels: Readonly<Record<string, string>>): boolean {
  for (const [k, v] of Object.entries(sel.labels)) if (labels[k] !== v) return false;
  if (sel.all) return true;
  if (sel.names.length === 0 && sel.globs.length === 0) return Object.keys(sel.labels).length > 0;
  return sel.names.includes(host) || sel.globs.some((g) => g.test(host));
}

/** True when the selector names exactly one host and nothing else (so it can go to that host's topic). */
export function singleHost(sel: Selector): string | undefined {
  return !sel.all && sel.globs.length === 0 && Object.keys(sel.labels).length === 0 && sel.names.length === 1 ? sel.names[0] : undefined;
}
