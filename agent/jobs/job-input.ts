// A job's stdin, as send_input reaches it. What the program has not read yet stays buffered within
// a bound; send_input waits only a bounded time for the flush (agent/commands/jobs.ts), so a deaf
// program holds nothing up.
import { CommandError } from '../registry.js';

/** Input a job has not read yet, per job, before send_input is refused. */
export const STDIN_BUFFER_LIMIT = 4 * 1024 * 1024;

export class JobInput {
  private stdin: (NodeJS.WritableStream & { writableLength?: number }) | undefined;

  constructor(private readonly job: string) {}

  attach(stdin: NodeJS.WritableStream): void {
    this.stdin = stdin;
  }

  /** Writes to the program's stdin and resolves when the program took it. */
  async send(data: Buffer, end: boolean): Promise<void> {
    const stdin = this.stdin;
    if (!stdin) throw new CommandError('NOT_RUNNING', `job ${this.job} takes no input`);
    if ((stdin.writableLength ?? 0) + data.length > STDIN_BUFFER_LIMIT) {
      throw new CommandError('FAILED', `job ${this.job} is not reading its input: ${stdin.writableLength} bytes already wait in its stdin buffer (limit ${STDIN_BUFFER_LIMIT})`);
    }
    const flushed = new Promise<void>((resolve, reject) => stdin.write(data, (err) => (err ? reject(new CommandError('FAILED', err.message)) : resolve())));
    if (end) stdin.end();
    await flushed;
  }
}
