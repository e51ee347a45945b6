import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { lazySchema } from '../../protocol/lazy-schema.js';
import { CommandSchema, JobEventSchema, ResultEvent } from '../../protocol/index.js';

describe('lazySchema', () => {
  it('builds the schema on first use only, once', () => {
    let builds = 0;
    const S = lazySchema(() => (builds++, z.object({ a: z.number() })));
    expect(builds).toBe(0);
    expect(S.safeParse({ a: 1 }).success).toBe(true);
    expect(S.safeParse({ a: 'x' }).success).toBe(false);
    expect(Object.keys(S.shape)).toEqual(['a']);
    expect(builds).toBe(1);
  });

  it('stands in for the schema: instanceof, nesting and JSON Schema work as on the built one', () => {
    expect(CommandSchema).toBeInstanceOf(z.ZodObject);
    expect(JobEventSchema.options).toHaveLength(6);
    expect(z.object({ r: ResultEvent.optional() }).safeParse({ r: undefined }).success).toBe(true);
    expect(z.toJSONSchema(CommandSchema, { io: 'input', unrepresentable: 'any' })).toMatchObject({ type: 'object', required: ['cmd'] });
  });
});
