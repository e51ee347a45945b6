// What the controller library logs through, and all it asks of a logger: a pino logger fits as it is,
// and so does the CLI's one-line operator log (cli/controller/operator-log.ts), which has no use for
// pino's JSON and so spares every controller verb loading pino.

/** A pino `Logger`, or anything with these methods. Silent unless the caller passes one. */
export interface ControllerLogger {
  child(bindings: Record<string, unknown>): ControllerLogger;
  warn(obj: object | string, msg?: string): void;
  debug(obj: object, msg?: string): void;
}
