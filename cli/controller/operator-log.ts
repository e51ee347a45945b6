// What an operator sees of connection trouble: one plain line per event on stderr
// (`conplyent: mqtt error: connect ECONNREFUSED 127.0.0.1:1883`), not pino JSON, which stays the
// format of the agent's and broker's logs, read by journald and log shippers. While the broker is
// down mqtt.js retries every second and fails the same way each time: that is one event, so a line
// repeating the one before it is dropped until the connection is lost or back again (say()).
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import type { LogLevel } from '../config-fields.js';

/** One pino record → one line. `err` and `job` are the fields the controller library logs. */
function line(record: string): string {
  try {
    const r = JSON.parse(record) as { msg?: string; err?: unknown; job?: unknown };
    return `conplyent: ${r.msg ?? ''}${r.err !== undefined ? `: ${typeof r.err === 'string' ? r.err : JSON.stringify(r.err)}` : ''}${r.job !== undefined ? ` (job ${String(r.job)})` : ''}\n`;
  } catch {
    return record;
  }
}

export class OperatorLog {
  readonly logger: Logger;
  private last?: string;
  private muted = false;

  constructor(level: LogLevel, private readonly stderr: NodeJS.WritableStream = process.stderr) {
    const dest = new Writable({
      write: (chunk: Buffer, _enc, done) => {
        for (const rec of chunk.toString('utf8').split('\n')) if (rec.trim()) this.print(line(rec));
        done();
      },
    });
    this.logger = pino({ level }, dest);
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
