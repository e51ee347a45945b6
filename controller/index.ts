// The controller library: what scripts import (`import { connect } from 'conplyent'`).
export { connect, Fleet, type RunOptions } from './fleet.js';
export { rollout, type RolloutOptions, type RolloutResult } from './rollout.js';
export { JobHandle, type JobItem, type FinalEvent } from './job.js';
export type { HostResult, HostState, GapInfo } from './collect.js';
export type { HostInfo, PresenceChange } from './presence.js';
export type { ConnectOptions } from './connection.js';
export { resolveTarget, type Target, type Resolution } from './targets.js';
export { expandHostRanges, compressHosts } from './host-ranges.js';
export { put, get, PUT_CHUNK_BYTES, PUT_FRAME_CHUNK_BYTES, type PutResult, type GetResult, type TransferProgress } from './transfer.js';
export { ControllerError, ControllerErrorCodes, type ControllerErrorCode } from './errors.js';
export { fetchAudit, auditProblem, type AuditFilter, type AuditPage } from './audit.js';
export type { DroppedFrame } from './router.js';
export { outputBytes, OutputFrame, type FrameProblem, type OutputEncoding } from '../protocol/index.js';
