/**
 * Where the server's log lines go: a bounded buffer in front of stdout that never blocks the event
 * loop. A container's stdout is a pipe to the runtime; when the reader falls behind (a slow node
 * disk, a stopped log shipper) a blocking write would freeze admissions, probes and even SIGTERM
 * handling. Here stdout is written through Node's own stream (for a pipe or socket, libuv writes
 * when the descriptor is writable and queues otherwise), what waits is bounded, and a line that
 * does not fit is dropped and counted (backend_webhook_log_lines_dropped_total) instead.
 *
 * Lines also gather into batches (a write per line was a fifth of an admission's CPU): written once
 * `batchBytes` gather, every `flushIntervalMs`, and on exit, crashes included (best effort: what
 * stdout cannot take at once is left behind, the exit is never held up).
 */
import type { Writable } from 'node:stream';

export const DEFAULT_LOG_BUFFER_BYTES = 1024 * 1024;
export const LOG_BATCH_BYTES = 4096;
/** Longest a log line waits before it is written (lines are also written once LOG_BATCH_BYTES gather). */
export const LOG_FLUSH_INTERVAL_MS = 200;

/** What LogSink needs of its output: Node's stdout, or any Writable (tests). */
export type LogOutput = Pick<Writable, 'write' | 'writableLength' | 'destroyed' | 'on'>;

export interface LogSinkOptions {
  /** Most characters held (batch + what the output has not taken yet) before lines are dropped. */
  maxBufferedBytes?: number;
  batchBytes?: number;
  flushIntervalMs?: number;
}

export class LogSink {
  private pending = '';
  private dropped = 0;
  private broken = false;
  private readonly maxBuffered: number;
  private readonly batchBytes: number;

  constructor(
    private readonly out: LogOutput,
    options: LogSinkOptions = {},
  ) {
    this.maxBuffered = options.maxBufferedBytes ?? DEFAULT_LOG_BUFFER_BYTES;
    this.batchBytes = Math.min(options.batchBytes ?? LOG_BATCH_BYTES, this.maxBuffered);
    // EPIPE and friends: the reader is gone for good. Never a crash; what follows is counted as dropped.
    out.on('error', () => {
      this.broken = true;
    });
    out.on('close', () => {
      this.broken = true;
    });
    setInterval(() => this.flush(), options.flushIntervalMs ?? LOG_FLUSH_INTERVAL_MS).unref();
  }

  /** Log lines dropped so far because the output did not keep up (or is gone). */
  get droppedLines(): number {
    return this.dropped;
  }

  /** Characters waiting: in the batch, plus what the output accepted but has not written yet. */
  get bufferedBytes(): number {
    return this.pending.length + this.out.writableLength;
  }

  /** pino's destination interface: one or more complete lines. Never blocks, never throws. */
  write(chunk: string): boolean {
    if (this.broken || this.out.destroyed || this.pending.length + chunk.length + this.out.writableLength > this.maxBuffered) {
      this.drop(chunk);
      return true;
    }
    this.pending += chunk;
    if (this.pending.length >= this.batchBytes) this.flush();
    return true;
  }

  /**
   * Hands the batch to the output now (which, for a pipe, writes what fits and queues the rest).
   * The callback (pino's logger.flush) is called at once: nothing here waits for the reader.
   */
  flush(callback?: (err?: Error) => void): void {
    const batch = this.pending;
    this.pending = '';
    if (batch.length > 0) {
      if (this.broken || this.out.destroyed) this.drop(batch);
      else {
        try {
          this.out.write(batch);
        } catch {
          this.broken = true;
          this.drop(batch);
        }
      }
    }
    callback?.();
  }

  /**
   * Flushes, then resolves once the output has written everything handed to it, or after `withinMs`
   * at the latest (for shutdown: the last lines get a chance, the exit is not held up).
   */
  drain(withinMs: number): Promise<void> {
    this.flush();
    if (this.broken || this.out.destroyed || this.out.writableLength === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, Math.max(0, withinMs));
      // Writes complete in order: the callback of an empty write comes after every earlier one.
      try {
        this.out.write('', () => {
          clearTimeout(timer);
          resolve();
        });
      } catch {
        clearTimeout(timer);
        resolve();
      }
    });
  }

  private drop(chunk: string): void {
    let lines = 0;
    for (let i = chunk.indexOf('\n'); i !== -1; i = chunk.indexOf('\n', i + 1)) lines++;
    this.dropped += lines;
  }
}

let stdoutSink: LogSink | undefined;

/**
 * The process's one sink on stdout (created on first use, with the bound of the first caller);
 * flushed on exit, which for a pipe writes what fits at once and leaves the rest.
 */
export function stdoutLogSink(options: LogSinkOptions = {}): LogSink {
  if (!stdoutSink) {
    const sink = new LogSink(process.stdout, options);
    process.on('exit', () => sink.flush());
    stdoutSink = sink;
  }
  return stdoutSink;
}
