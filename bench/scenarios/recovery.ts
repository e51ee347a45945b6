import type { Ctx } from './context.js'; export async function recovery(_ctx: Ctx): Promise<void> {}
