// One error class for everything the controller library can refuse, with a code a caller can act on
// (nats.js style): the CLI maps codes to exit statuses, scripts switch on them.

export const ControllerErrorCodes = {
  /** The options given to connect() or run() are invalid (bad URL, unreadable TLS file, bad target). */
  BAD_OPTION: 'BAD_OPTION',
  /** The broker could not be reached or refused the connection within connectTimeoutMs. */
  CONNECT: 'CONNECT',
  /** The broker refused a subscription, or did not acknowledge it within subscribeTimeoutMs. */
  SUBSCRIBE: 'SUBSCRIBE',
  /** The fleet handle was closed while the call was in flight. */
  CLOSED: 'CLOSED',
  /** A file transfer ended with a host reporting an error or a checksum mismatch. */
  TRANSFER: 'TRANSFER',
} as const;
export type ControllerErrorCode = keyof typeof ControllerErrorCodes;

export class ControllerError extends Error {
  constructor(readonly code: ControllerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ControllerError';
  }
}
