// Bridges to the controller's verbs (controller/cli/index.ts). Until that module exists the
// agent and broker commands still work; this shim goes away once it does.
import type { Command } from 'commander';

export async function registerControllerVerbs(program: Command): Promise<void> {
  const spec = '../controller/cli/index.js';
  try {
    const mod = (await import(spec)) as { registerControllerVerbs(p: Command): void };
    mod.registerControllerVerbs(program);
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { url?: string };
    if (e.code === 'ERR_MODULE_NOT_FOUND' && String(e.message).includes('controller/cli/index.js')) return;
    throw err;
  }
}
