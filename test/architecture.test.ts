// ARCHITECTURE.md names the file where each step of a command's walk lives; a rename that forgets
// the map would send a newcomer to a file that is not there.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const doc = readFileSync(`${root}ARCHITECTURE.md`, 'utf8');

/** Every `code span` that looks like a repository path: a folder ending in / or a file with an extension. */
function namedPaths(text: string): string[] {
  const spans = [...text.matchAll(/`([^`\s]+)`/g)].map((m) => m[1]!);
  return [...new Set(spans.filter((s) => /^[a-z][\w.-]*(\/[\w.-]+)*(\/|\.(ts|md|json))$/.test(s) && (s.includes('/') || s.endsWith('.md'))))];
}

describe('ARCHITECTURE.md', () => {
  const paths = namedPaths(doc);

  it('names the files of the exec walk (decode, judge, run, publish, reorder)', () => {
    for (const f of ['agent/inbound/judge.ts', 'agent/jobs/launcher.ts', 'agent/outbound/outbox.ts', 'controller/reorder.ts', 'protocol/decode.ts']) {
      expect(paths).toContain(f);
    }
  });

  it('names only files and folders that exist', () => {
    expect(paths.length).toBeGreaterThan(40);
    const missing = paths.filter((p) => !existsSync(`${root}${p}`));
    expect(missing, `renamed or removed, update ARCHITECTURE.md: ${missing.join(', ')}`).toEqual([]);
  });

  it('the path filter itself catches a file that does not exist', () => {
    const probe = namedPaths('see `agent/inbound/no-such-file.ts` and `agent/`');
    expect(probe).toEqual(['agent/inbound/no-such-file.ts', 'agent/']);
    expect(existsSync(`${root}${probe[0]}`)).toBe(false);
  });
});
