// A schema built the first time it is used, not when its module is imported. Building a zod 4
// schema runs every check's and every type's constructor (zod's `$constructor` init chain), which
// at import was ≈ 10 % of a cold `conplyent exec` (BENCHMARKS.md, run 10) for schemas most verbs
// never parse: `conplyent --help` decodes nothing, an idle agent no event, a controller no command.
//
// The value stands in for the schema itself (same name, same type, same methods), so callers and
// `z.infer<typeof X>` do not change: a Proxy whose every read goes to the schema, built once.

/** Returns a stand-in for `build()`'s schema that builds it on first property access. */
export function lazySchema<T extends object>(build: () => T): T {
  let built: T | undefined;
  const real = (): T => (built ??= build());
  return new Proxy({} as T, {
    get: (_, key) => Reflect.get(real(), key),
    has: (_, key) => Reflect.has(real(), key),
    set: (_, key, value) => Reflect.set(real(), key, value),
    getPrototypeOf: () => Reflect.getPrototypeOf(real()),
  });
}
