// Where a fixture script is: beside helpers/ when tests run from source, and still in the source tree
// when the bench runs these helpers compiled into dist/ (tsc does not copy .mjs fixtures).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export function fixturePath(name: string): string {
  const beside = fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
  return existsSync(beside) ? beside : fileURLToPath(new URL(`../../../test/fixtures/${name}`, import.meta.url));
}
