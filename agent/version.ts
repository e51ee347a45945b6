// The agent's version, read once from package.json so presence never disagrees with npm.
import { readFileSync } from 'node:fs';

function read(): string {
  // dist/agent/version.js and agent/version.ts sit at different depths below package.json.
  for (const rel of ['../../package.json', '../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version: string };
      if (pkg.name === 'conplyent') return pkg.version;
    } catch {
      // try the next depth
    }
  }
  return '0.0.0';
}

export const AGENT_VERSION = read();
