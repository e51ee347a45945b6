// Builds the installed `conplyent` command (cli/bin.ts) into dist/bin/ with rolldown
// (https://rolldown.rs), after tsc: `npm run build` runs both. What stays outside the bundle, loaded
// from node_modules as before: the agent and broker runtimes' dependencies (aedes, level, Redis,
// execa) and pino-pretty, which cli/logger.ts requires by name on a terminal only.
//
// pino is inside: loaded from node_modules it was 13 CommonJS files to resolve, read and compile,
// ≈ 8 % of a cold `conplyent exec`. Only pino's worker transports would break, since a bundled
// thread-stream cannot find its worker file (pino's docs/bundling.md: `__bundlerPathsOverrides`),
// and nothing in the bundle starts one: the controller verbs log through a Writable
// (cli/controller/operator-log.ts), and the agent and broker, whose cli/logger.ts could, run unbundled.
//
// zod's locale barrel: every zod entry point does `export * as locales`, so an unbundled import
// evaluates all ~50 locale files and no bundler can drop them (colinhacks/zod#6050, #5665). We use
// only English messages, which zod registers by default: the barrel is replaced by `en` alone.
import { rmSync } from 'node:fs';
import { build } from 'rolldown';

const OUTSIDE = /^(pino-pretty|aedes|aedes-[^/]+|level|classic-level|execa|ioredis|mqemitter[^/]*|bufferutil|utf-8-validate)(\/|$)/;
const ZOD_LOCALES = /[\\/]node_modules[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/;

// Chunk names carry content hashes: a stale chunk of an earlier build must not linger beside the new ones.
rmSync('dist/bin', { recursive: true, force: true });
await build({
  input: { bin: 'dist/cli/bin.js' },
  platform: 'node',
  logLevel: 'warn',
  external: (id) => OUTSIDE.test(id) || id.startsWith('node:'),
  plugins: [
    {
      name: 'zod-english-only',
      load(id) {
        return ZOD_LOCALES.test(id) ? 'export { default as en } from "./en.js";' : null;
      },
    },
  ],
  output: { dir: 'dist/bin', format: 'esm', chunkFileNames: '[name]-[hash].js' },
});
