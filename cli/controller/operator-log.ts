// What an operator sees of connection trouble: one plain line per event on stderr
// (`conplyent: mqtt error: connect ECONNREFUSED 127.0.0.1:1883`), not pino JSON, which stays the
// format of the agent's and broker's logs, read by journald and log shippers.
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

export function operatorLogger(level: LogLevel, stderr: NodeJS.WritableStream = process.stderr): Logger {
  const dest = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const rec of chunk.toString('utf8').split('\n')) if (rec.trim()) stderr.write(line(rec));
      done();
    },
  });
  return pino({ level }, dest);
}
