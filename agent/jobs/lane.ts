// A queue that runs at most a few tasks at once, in arrival order: the positional writes of uploads
// [cp-dispatch-5] and the audit log's readers use one each.

/** Runs tasks in arrival order, at most `size` at once. */
export class Lane {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly size: number) {}

  /** Tasks waiting for their turn (not counting those running). */
  get queued(): number {
    return this.waiting.length;
  }

  /** Runs the task when its turn comes; settles as the task does. */
  run<T>(task: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const go = () => {
        this.running++;
        task()
          .then(resolve, reject)
          .finally(() => {
            this.running--;
            this.waiting.shift()?.();
          });
      };
      if (this.running < this.size) go();
      else this.waiting.push(go);
    });
  }
}
