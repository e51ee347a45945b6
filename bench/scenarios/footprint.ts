import type { Ctx } from './context.js'; export async function footprint(_ctx: Ctx): Promise<void> {}
