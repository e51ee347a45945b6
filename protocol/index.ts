// The wire contract: what agent, controller and broker share. topics.md mirrors this module.
export * from './version.js';
export * from './limits.js';
export * from './codes.js';
export * from './names.js';
export * from './ids.js';
export * from './topics.js';
export * from './command.js';
export * from './events.js';
export * from './presence.js';
export * from './selector.js';
export * from './text.js';
export * from './decode.js';
export * from './json-schema.js';
export * from './canonical-json.js';
export * from './keys.js';
export * from './signature.js';
export * from './signing.js';
