// Output of a job that asked for frames [cp-frame-3], gathered while its publish window is full: a
// program writing faster than the broker takes it gets frames of up to 256 KiB instead of one per
// pipe read (64 KiB on Linux, pipe(7)), so a stream costs a quarter of the messages, acks and
// callbacks; output that comes slowly still goes out at once, one frame per write.
import type { FrameStream } from '../../protocol/index.js';

export interface BatchSink {
  /** Most bytes in one frame. */
  readonly max: number;
  /** Whether the job's window would take another event now (or the link is down: the spool takes it). */
  hasRoom(): boolean;
  /** Resolves when it would. */
  room(): Promise<void>;
  /** Appends one chunk as an output event. */
  emit(stream: FrameStream, chunk: Buffer): void;
}

export class OutputBatch {
  /** Owned, not the producer's chunks: a plugin may reuse its buffer once write() resolved. */
  private buf: Buffer | undefined;
  private size = 0;
  private stream: FrameStream = 'stdout';
  private waiting = false;

  constructor(private readonly sink: BatchSink) {}

  /** Takes a chunk; resolves when the producer may write more (pipe backpressure, as for JSON events). */
  async add(stream: FrameStream, chunk: Buffer, running: () => boolean): Promise<void> {
    // One stream at a time, so stdout and stderr keep the order they were written in.
    if (stream !== this.stream) this.flush();
    this.stream = stream;
    for (let off = 0; off < chunk.length; ) {
      if (!running()) return;
      const take = Math.min(this.sink.max - this.size, chunk.length - off);
      this.buf ??= Buffer.allocUnsafe(this.sink.max);
      chunk.copy(this.buf, this.size, off, off + take);
      this.size += take;
      off += take;
      if (this.size < this.sink.max) continue;
      this.flush();
      await this.sink.room();
    }
    if (this.size === 0) return;
    if (this.sink.hasRoom()) return this.flush();
    // The window is full: keep gathering what the program writes next; send when it opens.
    if (this.waiting) return;
    this.waiting = true;
    void this.sink.room().then(() => {
      this.waiting = false;
      this.flush();
    });
  }

  /** Emits what was gathered: before another stream's output, an update, or the terminal event. */
  flush(): void {
    if (this.size === 0 || !this.buf) return;
    const chunk = this.buf.subarray(0, this.size);
    // emit() copies it into its frame at once, so the buffer serves the next frame too.
    this.size = 0;
    this.sink.emit(this.stream, chunk);
  }
}
