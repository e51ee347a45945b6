// Exit codes follow the original conplyent; error codes are machine-readable reasons for them.

/** Exit codes of the Conplyent Shell [cp-evt-6]. exec reports the process's own code instead. */
export const ExitCode = {
  SUCCESS: 0,
  ERROR: 1,
  INVALID_PARAMETER: -1,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * Why a job failed or was refused. Each has one meaning; topics.md lists them.
 * The exit code that goes with each is fixed here so every part agrees.
 */
export const ErrorCodes = {
  MALFORMED: ExitCode.INVALID_PARAMETER, // payload is not valid JSON or text command
  RETAINED: ExitCode.INVALID_PARAMETER, // a command published with the retain flag: never run
  TOO_LARGE: ExitCode.INVALID_PARAMETER, // payload over MAX_COMMAND_BYTES
  BAD_ENVELOPE: ExitCode.INVALID_PARAMETER, // an envelope field has the wrong type
  UNSUPPORTED_VERSION: ExitCode.INVALID_PARAMETER, // v is not a protocol version this agent speaks
  UNKNOWN_COMMAND: ExitCode.INVALID_PARAMETER, // no command of that name is registered
  BAD_ARGS: ExitCode.INVALID_PARAMETER, // wrong argument count or types
  BAD_TARGET: ExitCode.INVALID_PARAMETER, // the fleet command's target does not parse
  UNKNOWN_JOB: ExitCode.INVALID_PARAMETER, // kill / send_input / replay of a job this agent does not know
  UNSIGNED: ExitCode.INVALID_PARAMETER, // the agent requires signed commands and this one has no sig
  BAD_SIGNATURE: ExitCode.INVALID_PARAMETER, // the sig does not verify for this command on this topic
  UNKNOWN_KEY: ExitCode.INVALID_PARAMETER, // the sig's key id is not one this agent trusts
  BAD_DATA: ExitCode.INVALID_PARAMETER, // a command frame's bytes are not the ones its header declares
  DENIED: ExitCode.INVALID_PARAMETER, // the agent's policy does not allow this key this command
  EXPIRED: ExitCode.ERROR, // older than its TTL: never run
  CLOCK_SKEW: ExitCode.ERROR, // sentAt is further in the future than the allowed skew
  PATH: ExitCode.ERROR, // file system error (missing, not a directory, permission...)
  NOT_RUNNING: ExitCode.ERROR, // the job exists but has already ended
  FAILED: ExitCode.ERROR, // the command ran and failed
  TIMEOUT: ExitCode.ERROR, // timeoutMs passed; the process tree was killed
  CANCELLED: ExitCode.ERROR, // killed by a kill command or close_server
  LOST: ExitCode.ERROR, // the agent died while the job ran; reported by its next start
  SPAWN: ExitCode.ERROR, // the program could not be started
  BUSY: ExitCode.ERROR, // the agent is at its limit of running jobs; try again later
  STATE_DAMAGED: ExitCode.ERROR, // the agent's journal was damaged and this command cannot be proven new
  STATE_UNAVAILABLE: ExitCode.ERROR, // the agent cannot record job ids (state directory unreadable or unwritable)
} as const;
export type ErrorCode = keyof typeof ErrorCodes;
export const ERROR_CODE_NAMES = Object.keys(ErrorCodes) as [ErrorCode, ...ErrorCode[]];
