// Logs: pino JSON on stderr by default (for journald and log shippers), pino-pretty on a terminal.
// stderr keeps stdout free for command output and --print-config.
import { createRequire } from 'node:module';
import pino, { type Logger } from 'pino';
import type PinoPretty from 'pino-pretty';
import type { LogLevel } from './config.js';

// pino-pretty (and its colour and date code) only on a terminal: agents under systemd and
// controllers in scripts never need it, and loading it is a good part of a cold start.
const require = createRequire(import.meta.url);

/** The root logger of a CLI process; parts get child loggers (`{part: 'agent'}`). */
export function createLogger(level: LogLevel, tty: boolean = process.stderr.isTTY === true): Logger {
  if (tty) {
    // A synchronous pretty stream, not a worker transport: no extra thread, nothing lost on exit.
    const pretty = require('pino-pretty') as typeof PinoPretty;
    return pino({ level }, pretty({ destination: 2, colorize: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname', sync: true }));
  }
  return pino({ level }, pino.destination(2));
}
