/**
 * Runs the jobs queued during one event-loop turn together, at the end of that turn (setImmediate).
 *
 * Why: requests that arrive together (the API server keeps many connections open to us) are then
 * judged back to back, while the judging code and its data are still in the CPU's caches, instead
 * of each one squeezed between other requests' TLS and HTTP work. On the 2-core benchmark machine
 * this cut the server's CPU per admission by about a quarter (docs/benchmarks.md). Nothing is
 * skipped, each request is still judged on its own, and a lone request waits one turn (microseconds).
 */
export interface TurnBatcherHooks {
  /** Called once per turn with the number of jobs run together. */
  onFlush?: (size: number) => void;
  /** A job threw: the others still run. */
  onError?: (err: unknown) => void;
}

export class TurnBatcher {
  private queue: Array<() => void> = [];

  constructor(private readonly hooks: TurnBatcherHooks = {}) {}

  /** Queues `job` for the end of this turn. */
  defer(job: () => void): void {
    this.queue.push(job);
    if (this.queue.length === 1) setImmediate(this.flush);
  }

  /** Jobs queued while a batch runs wait for the next turn, so one batch never grows without end. */
  private readonly flush = (): void => {
    const jobs = this.queue;
    this.queue = [];
    this.hooks.onFlush?.(jobs.length);
    for (const job of jobs) {
      try {
        job();
      } catch (err) {
        this.hooks.onError?.(err);
      }
    }
  };
}
