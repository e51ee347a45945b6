// What every scenario gets: the report, a temp dir it owns, and the run's size knobs.
import { PROTOCOL_VERSION } from '../../protocol/index.js';
import type { Report } from '../lib/report.js';

export interface Ctx {
  report: Report;
  /** A temp directory for state dirs, keys and configs; removed after the run. */
  tmp: string;
  /** --quick: smaller counts, for checking that the bench works (not for BENCHMARKS.md). */
  quick: boolean;
}

export type Scenario = (ctx: Ctx) => Promise<void>;

/** Same bytes as a controller's ping envelope, so the raw echo moves as much as the command does. */
export const ECHO_PAYLOAD = JSON.stringify({ v: PROTOCOL_VERSION, id: 'V1StGXR8_Z5jdHi6B-myT', cmd: 'ping', args: [], opts: {}, from: 'ctl-abcdefghijkl', sentAt: 1764000000000 });
