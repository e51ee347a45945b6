// Job control answers at once instead of queueing behind foreground commands: a slow or stuck
// foreground command must never keep an operator from seeing or killing jobs [cp-dispatch-4]. The
// same commands are exempt from the agent's job cap, or a full agent could not be told to stop.
export const IMMEDIATE: ReadonlySet<string> = new Set(['kill', 'is_alive', 'jobs', 'ping', 'send_input', 'replay', 'audit']);
