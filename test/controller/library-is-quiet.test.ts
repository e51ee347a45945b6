// The controller library (the package's `.` export) returns values and emits events; printing and
// exit statuses belong to the CLI (cli/controller/). A script that imports the library must never
// see it write to its terminal or end its process.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const LIBRARY = join(ROOT, 'controller');

/** What only a CLI may do: write to the process's streams or decide how it ends. */
const FORBIDDEN = [/\bprocess\.stdout\b/, /\bprocess\.stderr\b/, /\bconsole\.\w+/, /\bprocess\.exit\b/, /\bprocess\.exitCode\b/];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return /\.(ts|js|mjs)$/.test(e.name) ? [p] : [];
  });
}

/**
 * Comments are left out: TSDoc examples show a caller printing a result (`console.log(…)`), which is
 * the point of them. `//` after a `:` is a URL inside a string, not a comment. Line numbers stay.
 */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, '')).replace(/(^|[^:])\/\/.*$/gm, '$1');
}

describe('the controller library', () => {
  it('has source files to check', () => {
    expect(sources(LIBRARY).length).toBeGreaterThan(5);
  });

  it('never prints and never ends the process: no process.stdout/stderr, console.*, process.exit or exitCode', () => {
    const found: string[] = [];
    for (const file of sources(LIBRARY)) {
      code(readFileSync(file, 'utf8'))
        .split('\n')
        .forEach((line, i) => {
          for (const re of FORBIDDEN) if (re.test(line)) found.push(`${relative(ROOT, file)}:${i + 1}: ${line.trim()}`);
        });
    }
    expect(found).toEqual([]);
  });

  it('the check itself catches each forbidden call in code and ignores it in comments', () => {
    for (const sample of ['process.stdout.write(x)', 'process.stderr.write(x)', 'console.log(x)', 'console.error(x)', 'process.exit(1)', 'process.exitCode = 2']) {
      expect(FORBIDDEN.some((re) => re.test(code(sample))), sample).toBe(true);
      expect(FORBIDDEN.some((re) => re.test(code(`// ${sample}`))), sample).toBe(false);
      expect(FORBIDDEN.some((re) => re.test(code(`/**\n * ${sample}\n */`))), sample).toBe(false);
    }
    expect(code("connect('mqtt://broker:1883')")).toContain('mqtt://broker');
  });
});
