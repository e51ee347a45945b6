// Builds the installed `conplyent` command (cli/bin.ts) into dist/bin/ with rolldown
// (https://rolldown.rs), after tsc: `npm run build` runs both. What stays outside the bundle, loaded
// from node_modules as before: the agent and broker runtimes' dependencies (aedes, level, Redis,
// execa), pino-pretty, which cli/logger.ts requires by name on a terminal only, and ws (a dependency
// of ours), which only mqtt.js's WebSocket transport loads, on first use (MQTT_ON_USE below): inside,
// it was a 116 KB chunk every controller verb read and compiled.
//
// pino is inside, though no bundled verb loads it now (the controller verbs print through
// cli/controller/operator-log.ts without pino; the agent and broker, whose cli/logger.ts uses it, run
// unbundled): from node_modules it had been 13 CommonJS files to resolve, read and compile. Only
// pino's worker transports would break, since a bundled thread-stream cannot find its worker file
// (pino's docs/bundling.md: `__bundlerPathsOverrides`), and nothing in the bundle starts one.
//
// zod's locale barrel: every zod entry point does `export * as locales`, so an unbundled import
// evaluates all ~50 locale files and no bundler can drop them (colinhacks/zod#6050, #5665). We use
// only English messages, which zod registers by default: the barrel is replaced by `en` alone.
import { rmSync } from 'node:fs';
import { build } from 'rolldown';

const OUTSIDE = /^(pino-pretty|ws|aedes|aedes-[^/]+|level|classic-level|execa|ioredis|mqemitter[^/]*|bufferutil|utf-8-validate)(\/|$)/;
const ZOD_LOCALES = /[\\/]node_modules[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/;

// mqtt.js loads every transport when it first connects, and its TCP transport loads SOCKS proxy
// support (socks, ip-address) at the top, as its TLS one does: ≈ 9 % of a cold `exec` (BENCHMARKS.md issue 17), spent
// on code that runs only for ws://, tls:// or a socksProxy option. These rewrites load each one when
// a connection first uses it. They match mqtt.js's build text exactly, so an mqtt.js release that
// changes it fails this build instead of silently undoing them.
const MQTT_ON_USE = [
  {
    file: /[\\/]node_modules[\\/]mqtt[\\/]build[\\/]lib[\\/]connect[\\/]index\.js$/,
    rewrites: [
      ["protocols.ws = require('./ws').streamBuilder;", "protocols.ws = (...a) => require('./ws').streamBuilder(...a);"],
      ["protocols.wss = require('./ws').streamBuilder;", "protocols.wss = (...a) => require('./ws').streamBuilder(...a);"],
      ["protocols.ssl = require('./tls').default;", "protocols.ssl = (...a) => require('./tls').default(...a);"],
      ["protocols.mqtts = require('./tls').default;", "protocols.mqtts = protocols.ssl;"],
    ],
  },
  {
    file: /[\\/]node_modules[\\/]mqtt[\\/]build[\\/]lib[\\/]connect[\\/](tcp|tls)\.js$/,
    // Not even bundled: mqtt.js's own socks.js is required from its package when a proxy is used
    // (socksProxy, or MQTTJS_SOCKS_PROXY in the environment), so socks, ip-address and smart-buffer
    // (166 KB) are not compiled by every verb; mqtt is our dependency, so it resolves from here.
    rewrites: [['const socks_1 = __importDefault(require("./socks"));', 'const socks_1 = { get default() { return __importDefault(require("node:module").createRequire(require.resolve("mqtt"))("./lib/connect/socks.js")).default; } };']],
  },
];

function rewrite(id, code) {
  const which = MQTT_ON_USE.find((m) => m.file.test(id));
  if (!which) return null;
  for (const [from, to] of which.rewrites) {
    if (!code.includes(from)) throw new Error(`cli/bundle.mjs: ${id} no longer contains ${from}; review MQTT_ON_USE for this mqtt.js`);
    code = code.replace(from, to);
  }
  return code;
}

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
    {
      name: 'mqtt-transports-on-use',
      transform(code, id) {
        return rewrite(id, code);
      },
    },
  ],
  output: { dir: 'dist/bin', format: 'esm', chunkFileNames: '[name]-[hash].js' },
});
