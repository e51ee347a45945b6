// topics.md is the contract people read; this keeps it honest against the code it mirrors: every
// error code, envelope field, event type, limit and built-in command, and every rule id cited in
// the code, must be documented there.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  CommandSchema,
  DEFAULT_CLOCK_SKEW_MS,
  DEFAULT_TTL_MS,
  ErrorCodes,
  JobEventSchema,
  MAX_CHUNK_BYTES,
  MAX_COMMAND_BYTES,
  MAX_EVENT_BYTES,
  MAX_TTL_MS,
} from '../../protocol/index.js';
import { CommandRegistry } from '../../agent/registry.js';
import { registerBuiltins } from '../../agent/commands/index.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const doc = readFileSync(join(ROOT, 'topics.md'), 'utf8');

/** 524288 -> "524 288", the way topics.md writes numbers. */
const spaced = (n: number) => n.toLocaleString('en-US').replace(/,/g, ' ');

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (/\.(ts|mjs|js)$/.test(name)) out.push(p);
  }
  return out;
}

describe('topics.md mirrors the code', () => {
  it('[cp-err-1] lists every error code with the exit code the code fixes for it', () => {
    for (const [name, code] of Object.entries(ErrorCodes)) {
      expect(doc, `error table row for ${name}`).toMatch(new RegExp(`\\| \`${name}\` \\| ${code} \\|`));
    }
  });

  it('[cp-env-10] documents every envelope field in the envelope table', () => {
    for (const field of Object.keys(CommandSchema.shape)) {
      expect(doc, `envelope field ${field}`).toMatch(new RegExp(`^\\| \`${field}\` \\|`, 'm'));
    }
  });

  it('[cp-evt-2] has a section for every job event type', () => {
    for (const option of JobEventSchema.options) {
      const type = option.shape.type.value;
      expect(doc, `section for ${type}`).toMatch(new RegExp(`^### \`${type}\``, 'm'));
    }
  });

  it('[cp-limit-1] [cp-limit-2] [cp-limit-3] states the limits the code enforces', () => {
    for (const n of [MAX_COMMAND_BYTES, MAX_CHUNK_BYTES, MAX_EVENT_BYTES, MAX_TTL_MS, DEFAULT_TTL_MS, DEFAULT_CLOCK_SKEW_MS]) {
      expect(doc, `limit ${n}`).toContain(spaced(n));
    }
  });

  it('[cp-dispatch-3] documents every built-in command with its kind', () => {
    const reg = new CommandRegistry();
    registerBuiltins(reg);
    const builtins = reg.list();
    expect(doc).toContain(`these ${builtins.length} commands`);
    for (const c of builtins) {
      const row = doc.split('\n').find((l) => l.startsWith(`| \`${c.name}\` |`));
      expect(row, `row for ${c.name}`).toBeDefined();
      const kind = row!.split('|')[2].trim();
      expect(kind.includes('bg') ? 'background' : 'foreground', `kind of ${c.name}`).toBe(c.kind);
    }
  });

  it('defines every rule id that the code and the tests cite', () => {
    const cited = new Set<string>();
    for (const dir of ['protocol', 'agent', 'controller', 'broker', 'cli', 'test']) {
      let files: string[] = [];
      try {
        files = sources(join(ROOT, dir));
      } catch {
        continue;
      }
      for (const f of files) for (const m of readFileSync(f, 'utf8').matchAll(/cp-[a-z]+-\d+/g)) cited.add(m[0]);
    }
    const undefinedIds = [...cited].filter((id) => !doc.includes(`**[${id}]`)).sort();
    expect(undefinedIds, 'rule ids cited in code but not defined (as **[id]) in topics.md').toEqual([]);
  });
});
