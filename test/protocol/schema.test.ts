// protocol/schema.json is the committed JSON Schema of every payload; it must be exactly what the
// zod schemas generate, so the published contract (and topics.md, which links it) cannot drift.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { contractJsonSchema } from '../../protocol/index.js';

const SCHEMA_PATH = fileURLToPath(new URL('../../protocol/schema.json', import.meta.url));
const UPDATE = 'CONPLYENT_UPDATE_SCHEMA=1 npx vitest run test/protocol/schema.test.ts';

/** The committed form: two-space JSON with a final newline. */
function renderSchema(): string {
  return `${JSON.stringify(contractJsonSchema(), null, 2)}\n`;
}

describe('protocol/schema.json', () => {
  it('is exactly the JSON Schema generated from the zod contract (regenerate on purpose, never by hand)', () => {
    const fresh = renderSchema();
    if (process.env.CONPLYENT_UPDATE_SCHEMA === '1') writeFileSync(SCHEMA_PATH, fresh);
    let committed = '';
    try {
      committed = readFileSync(SCHEMA_PATH, 'utf8');
    } catch {
      throw new Error(`protocol/schema.json is missing. Generate it with: ${UPDATE}`);
    }
    if (committed !== fresh) {
      throw new Error(
        'protocol/schema.json differs from the zod schemas in protocol/*.ts: the wire contract changed. ' +
          `If the change is intended, regenerate it with \`${UPDATE}\`, update topics.md to match, and commit both.`,
      );
    }
    expect(committed).toBe(fresh);
  });

  it('describes the payload kinds of the contract: command, job event, presence, notice, audit record', () => {
    const s = JSON.parse(renderSchema()) as Record<string, { $schema?: string }>;
    expect(Object.keys(s).sort()).toEqual(['auditRecord', 'command', 'jobEvent', 'notice', 'presence']);
    for (const part of Object.values(s)) expect(part.$schema).toMatch(/json-schema\.org/);
  });
});
