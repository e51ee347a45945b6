// Output of a job that asked for frames [cp-frame-3], gathered while many of its events await their
// acks: a program writing faster than the broker takes it gets frames of up to 256 KiB instead of
// one per pipe read (at most 64 KiB on Linux, pipe(7)), so a stream costs a quarter of the messages,
// acks and callbacks or fewer; output that comes slowly still goes out at once, one frame per write.
import { FRAME_HEADER_BYTES, type FrameStream } from '../../protocol/index.js';

export interface BatchSink {
  /** Most bytes in one frame. */
  readonly max: number;
  /** Whether output should go out at once: few of the job's events await their ack (or the link is down: the spool takes it). */
  open(): boolean;
  /** Resolves when open() holds again. */
  opened(): Promise<void>;
  /** Resolves when the job's window takes another event (after a full frame: backpressure). */
  room(): Promise<void>;
  /** Appends one chunk as an output event (copied into its frame). */
  emit(stream: FrameStream, chunk: Buffer): void;
  /** Appends gathered bytes that sit after FRAME_HEADER_BYTES of room: the frame is written around them. */
  emitGathered(stream: FrameStream, frame: Buffer): void;
}

export class OutputBatch {
  /**
   * Owned, not the producer's chunks: a plugin may reuse its buffer once write() resolved. The
   * bytes start after room for the frame header, so the buffer becomes the frame without a copy.
   */
  private buf: Buffer | undefined;
  private size = 0;
  private stream: FrameStream = 'stdout';
  private waiting = false;

  constructor(private readonly sink: BatchSink) {}

  /** Takes a chunk; resolves when the producer may write more (pipe backpressure, as for JSON events). */
  async add(stream: FrameStream, chunk: Buffer, running: () => boolean): Promise<void> {
    for (let off = 0; off < chunk.length; ) {
      if (!running()) return;
      // One stream at a time, so stdout and stderr keep the order they were written in. Checked after
      // every await: exec reads both pipes at once, and the other stream's add() may have switched it.
      if (stream !== this.stream) {
        this.flush();
        this.stream = stream;
      }
      if (this.size === 0 && this.sink.open()) {
        // Nothing held and the window open: straight out (the frame copies it), as a JSON event would go.
        const piece = chunk.subarray(off, off + this.sink.max);
        this.sink.emit(stream, piece);
        off += piece.length;
        await this.sink.room();
        continue;
      }
      const take = Math.min(this.sink.max - this.size, chunk.length - off);
      this.buf ??= Buffer.allocUnsafe(FRAME_HEADER_BYTES + this.sink.max);
      chunk.copy(this.buf, FRAME_HEADER_BYTES + this.size, off, off + take);
      this.size += take;
      off += take;
      if (this.size < this.sink.max) continue;
      this.flush();
      await this.sink.room();
    }
    if (this.size === 0) return;
    if (this.sink.open()) return this.flush();
    // Many events are in flight, so sending this one later costs nothing: keep gathering what the
    // program writes next, and send it when the acks catch up or the frame is full (Nagle's idea,
    // RFC 896, with the window as the clock).
    if (this.waiting) return;
    this.waiting = true;
    void this.sink.opened().then(() => {
      this.waiting = false;
      this.flush();
    });
  }

  /** Emits what was gathered: before another stream's output, an update, or the terminal event. */
  flush(): void {
    if (this.size === 0 || !this.buf) return;
    const frame = this.buf.subarray(0, FRAME_HEADER_BYTES + this.size);
    // The buffer is the frame now (kept for replay): let go of it, so an idle job holds none.
    this.buf = undefined;
    this.size = 0;
    this.sink.emitGathered(this.stream, frame);
  }
}
