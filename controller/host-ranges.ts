// pdsh-style host ranges (`web[1-20]`, `web[01-10,15]`): expanded to names in the controller, and
// host lists folded back into that form for people (`web-[1-3,7],db-1`, as `dshbak -c` prints).
// Hand-written: the npm packages named "hostlist" do other things, and the syntax is pdsh's own
// (https://github.com/chaos/pdsh, src/common/hostlist.c). The agent never sees a range: its selector
// grammar [cp-fleet-2] stays as it is, and a range reaches it as a list of names.
import { compareHosts } from './host-order.js';

/** Expanding more names than this is refused: a typo like `web[1-9999999]` must not eat memory. */
export const MAX_RANGE_HOSTS = 10_000;

/** A bracket of numbers and number ranges; any other bracket (`[ab]`, `[a-z]`) is a glob class. */
const RANGE_BRACKET = /\[(\d+(?:-\d+)?(?:,\d+(?:-\d+)?)*)\]/;

/** Splits a target on commas that are not inside brackets. */
export function splitTerms(target: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of target) {
    if (ch === '[') depth++;
    else if (ch === ']') depth = Math.max(0, depth - 1);
    if (ch === ',' && depth === 0) {
      terms.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  terms.push(cur.trim());
  return terms.filter((t) => t !== '');
}

function expandTerm(term: string, out: string[]): void {
  const m = RANGE_BRACKET.exec(term);
  if (!m) {
    out.push(term);
    return;
  }
  const head = term.slice(0, m.index);
  const tail = term.slice(m.index + m[0].length);
  for (const part of m[1]!.split(',')) {
    const [a, b = a] = part.split('-') as [string, string?];
    const from = Number(a);
    const to = Number(b);
    if (to < from) throw new TypeError(`host range [${part}] goes backwards`);
    if (to - from + 1 + out.length > MAX_RANGE_HOSTS) throw new TypeError(`host range "${term}" names more than ${MAX_RANGE_HOSTS} hosts`);
    // `01-10` keeps the width of its first number, as pdsh does.
    const width = a.length > 1 && a.startsWith('0') ? a.length : 0;
    for (let n = from; n <= to; n++) expandTerm(`${head}${String(n).padStart(width, '0')}${tail}`, out);
  }
}

/** `web[1-3],role=db` → `web1,web2,web3,role=db`; a target without ranges comes back unchanged. */
export function expandHostRanges(target: string): string {
  if (!RANGE_BRACKET.test(target)) return target;
  const out: string[] = [];
  for (const term of splitTerms(target)) expandTerm(term, out);
  return out.join(',');
}

/** `['web-1','web-2','web-3','web-7','db-1']` → `db-1,web-[1-3,7]`: one term per prefix, sorted. */
export function compressHosts(hosts: readonly string[]): string {
  const groups = new Map<string, { width: number; n: number }[]>();
  const plain: string[] = [];
  for (const h of new Set(hosts)) {
    const m = /^(.*?)(\d+)$/.exec(h);
    if (!m) {
      plain.push(h);
      continue;
    }
    const digits = m[2]!;
    const width = digits.length > 1 && digits.startsWith('0') ? digits.length : 0;
    const list = groups.get(m[1]!) ?? [];
    list.push({ width, n: Number(digits) });
    groups.set(m[1]!, list);
  }
  const terms = plain.map((p) => ({ key: p, text: p }));
  for (const [prefix, nums] of groups) {
    nums.sort((x, y) => x.n - y.n);
    if (nums.length === 1) {
      terms.push({ key: prefix, text: `${prefix}${String(nums[0]!.n).padStart(nums[0]!.width, '0')}` });
      continue;
    }
    const parts: string[] = [];
    for (let i = 0; i < nums.length; ) {
      let j = i;
      while (j + 1 < nums.length && nums[j + 1]!.n === nums[j]!.n + 1 && nums[j + 1]!.width === nums[i]!.width) j++;
      const f = (k: number) => String(nums[k]!.n).padStart(nums[k]!.width, '0');
      parts.push(i === j ? f(i) : `${f(i)}-${f(j)}`);
      i = j + 1;
    }
    terms.push({ key: prefix, text: `${prefix}[${parts.join(',')}]` });
  }
  return terms
    .sort((a, b) => compareHosts(a.key, b.key))
    .map((t) => t.text)
    .join(',');
}
