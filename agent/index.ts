// Public API of the agent: create one, register custom commands, start it.
import { Agent } from './agent.js';
import type { AgentOptions } from './options.js';

export { Agent } from './agent.js';
export type { AgentOptions, PowerFn } from './options.js';
export { CommandError, CommandRegistry, Outcome } from './registry.js';
export type { CommandContext, CommandOptions, Handler, AgentServices, JobInfo, Grant } from './registry.js';

/**
 * Creates an agent (not yet connected).
 * @example
 * const agent = createAgent({ broker: 'mqtt://localhost:1883', name: 'web-1', stateDir: '/var/lib/conplyent' });
 * agent.registerCommand('hello', (ctx) => `hello ${ctx.args[0] ?? 'world'}`);
 * await agent.start();
 */
export function createAgent(options: AgentOptions): Agent {
  return new Agent(options);
}
