#!/usr/bin/env node
// The installed `conplyent` command (package.json "bin"), built into one bundle at dist/bin/bin.js by
// cli/bundle.mjs: our controller-side code, zod (English messages only), mqtt.js and commander in a
// few files instead of ~350 modules the loader resolves, reads, compiles and links one by one, which
// is most of a cold `conplyent exec` (BENCHMARKS.md, run 10). The agent and the broker are not in
// the bundle: those verbs run dist/cli/main.js as built by tsc, so a plugin that imports
// `conplyent/agent` shares the agent's classes (CommandError and the rest) with the agent it extends.
import { verbIn } from './verbs.js';

const LIBRARY_VERBS = new Set(['agent', 'broker']);

// The same relative URL names dist/cli/main.js from dist/cli/bin.js and from dist/bin/bin.js, and a
// computed specifier is one the bundler leaves alone.
const unbundled = new URL('../cli/main.js', import.meta.url).href;

if (LIBRARY_VERBS.has(verbIn(process.argv.slice(2)) ?? '')) await import(unbundled);
else await import('./main.js');
