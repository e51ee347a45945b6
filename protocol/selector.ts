// Target selectors [cp-fleet-*]: one grammar shared by the agent (fleet topic) and the controller (expected set).
//   selector := term ("," term)*
//   term     := "all" | key "=" value | glob
// A host matches when it matches at least one name/glob term (or there are none) AND every label term.
import { LABEL_KEY_RE, LABEL_VALUE_RE } from './names.js';

export interface Selector {
  readonly all: boolean;
  readonly names: readonly string[];
  readonly globs: readonly RegExp[];
  readonly labels: Readonly<Record<string, string>>;
  readonly source: string;
}

const GLOB_RE = /^[A-Za-z0-9_.*?[\]-]{1,64}$/;

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (const ch of glob) {
    if (ch === '*') re += '.*';
    else if (ch === '?') re += '.';
    else if (ch === '[' || ch === ']') re += ch;
    else re += ch.replace(/[.\\^$|(){}+]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Parses a selector string; throws a TypeError that names the bad term [cp-fleet-2]. */
export function parseSelector(source: string): Selector {
  const terms = source.split(',').map((t) => t.trim()).filter((t) => t.length > 0);
  if (terms.length === 0) throw new TypeError('target is empty: give a host, a glob like web-*, a label like role=web, or all');
  let all = false;
  const names: string[] = [];
  const globs: RegExp[] = [];
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
        globs.push(globToRegExp(term));
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
