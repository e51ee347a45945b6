// Logs: pino JSON on stderr by default (for journald and log shippers), pino-pretty on a terminal.
// stderr keeps stdout free for command output and --print-config.
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { LogLevel } from './config.js';

/** The root logger of a CLI process; parts get child loggers (`{part: 'agent'}`). */
export function createLogger(level: LogLevel, tty: boolean = process.stderr.isTTY === true): Logger {
  if (tty) {
    // A synchronous pretty stream, not a worker transport: no extra thread, nothing lost on exit.
    return pino({ level }, pretty({ destination: 2, colorize: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname', sync: true }));
  }
  return pino({ level }, pino.destination(2));
}
