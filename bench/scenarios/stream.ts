import type { Ctx } from './context.js'; export async function stream(_ctx: Ctx): Promise<void> {}
