// What an operator sees of connection trouble: one plain line per event on stderr
// (`conplyent: mqtt error: connect ECONNREFUSED 127.0.0.1:1883`), not pino JSON, which stays the
// format of the agent's and broker's logs, read by journald and log shippers. While the broker is
// down mqtt.js retries every second and fails the same way each time: that is one event, so a line
// repeating the one before it is dropped until the connection is lost or back again (say()).
// The library's records are written straight as lines: no pino to load on every controller verb.
import type { ControllerLogger } from '../../controller/logger.js';
import type { LogLevel } from '../config-fields.js';

/** pino's level numbers, so `--log-level` means here what it means for the agent and the broker. */
const LEVELS: Record<LogLevel, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };

/** One record → one line. `err` and `job` are the fields the controller library logs. */
function line(obj: object | string, msg: string | undefined): string {
  const r = (typeof obj === 'string' ? { msg: obj } : { ...obj, msg }) as { msg?: string; err?: unknown; job?: unknown };
  return `conplyent: ${r.msg ?? ''}${r.err !== undefined ? `: ${typeof r.err === 'string' ? r.err : JSON.stringify(r.err)}` : ''}${r.job !== undefined ? ` (job ${String(r.job)})` : ''}\n`;
}

export class OperatorLog {
  readonly logger: ControllerLogger;
  private last?: string;
  private muted = false;

  constructor(level: LogLevel, private readonly stderr: NodeJS.WritableStream = process.stderr) {
    const at = LEVELS[level];
    const logger: ControllerLogger = {
      child: () => logger,
      warn: (obj, msg) => {
        if (at <= LEVELS.warn) this.print(line(obj, msg));
      },
      debug: (obj, msg) => {
        if (at <= LEVELS.debug) this.print(line(obj, msg));
      },
    };
    this.logger = logger;
  }

  /** A connection event of its own (lost, back): always printed, and the next error counts again. */
  say(text: string): void {
    this.last = undefined;
    this.stderr.write(`conplyent: ${text}\n`);
  }

  /** Our own close: what the socket says while we hang up (`write after end`) is no news to anyone. */
  mute(): void {
    this.muted = true;
  }

  private print(text: string): void {
    if (this.muted || text === this.last) return;
    this.last = text;
    this.stderr.write(text);
  }
}
