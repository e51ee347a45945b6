import type { Ctx } from './context.js'; export async function spawnCost(_ctx: Ctx): Promise<void> {}
