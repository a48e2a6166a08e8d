/**
 * The server's side of the audit worker thread: starts it, writes its log lines to the server's
 * log, applies its metrics to the server's registry, keeps its last summary for GET /audit, and
 * starts it again (with backoff, the same identity, so it takes its own Lease back) when it dies:
 * a crash or an out-of-memory in the audit costs the audit a restart, never an admission.
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { AuditSummary } from './background.js';
import type { AuditMetrics } from './metrics.js';
import type { AuditWorkerConfig, HostMessage, WorkerMessage } from './worker-protocol.js';

export interface AuditWorkerHostOptions {
  readonly config: AuditWorkerConfig;
  /** The worker's entry; the built worker.js next to this module unless given (tests). */
  readonly workerUrl?: URL;
  /** The worker's V8 heap limit (MiB): past it the worker dies and is restarted, the server goes on. */
  readonly maxHeapMiB: number;
  /** Where the worker's log lines go (the server's log output). */
  readonly writeLine: (line: string) => void;
  readonly logger: Logger;
  readonly metrics: AuditMetrics;
  /** First restart delay (ms), doubling to maxRestartDelayMs; reset after a minute alive. */
  readonly restartDelayMs?: number;
  readonly maxRestartDelayMs?: number;
  /** How long stop() waits for the worker to release its Lease before terminating it. */
  readonly stopTimeoutMs?: number;
}

export const AUDIT_YOUNG_GENERATION_MIB = 8;

export type WorkerState = 'running' | 'restarting' | 'stopped';

export type HostedAuditSummary = (AuditSummary & { worker: WorkerState }) | { enabled: true; worker: WorkerState; objects: 0; reports: 'starting' };

export class AuditWorkerHost {
  private worker: Worker | undefined;
  private state: WorkerState = 'stopped';
  private last: AuditSummary | undefined;
  private restarts = 0;
  private startedAt = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  private readonly log: Logger;

  constructor(private readonly options: AuditWorkerHostOptions) {
    this.log = options.logger.child({ component: 'audit' });
  }

  start(): void {
    if (this.stopping) return;
    const worker = new Worker(this.options.workerUrl ?? new URL('./worker.js', import.meta.url), {
      workerData: this.options.config,
      // A small young generation: the audit's garbage is short-lived pages, and the resident memory of
      // a 50,000-object audit drops by about 30 MiB for 3% more judging time (docs/benchmarks.md).
      resourceLimits: { maxOldGenerationSizeMb: this.options.maxHeapMiB, maxYoungGenerationSizeMb: AUDIT_YOUNG_GENERATION_MIB },
    });
    this.worker = worker;
    this.state = 'running';
    this.startedAt = Date.now();
    worker.on('message', (message: WorkerMessage) => this.received(message));
    worker.on('error', (error) => {
      this.log.error({ err: error, code: (error as { code?: unknown }).code }, 'audit worker failed');
    });
    worker.on('exit', (code) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      if (this.stopping) {
        this.state = 'stopped';
        return;
      }
      this.scheduleRestart(code);
    });
  }

  summary(): HostedAuditSummary {
    if (!this.last) return { enabled: true, worker: this.state, objects: 0, reports: 'starting' };
    // A dead worker writes nothing: what it found stays readable, but no longer as the writer.
    return { ...this.last, ...(this.state === 'running' ? {} : { leader: false, reports: 'standby' as const }), worker: this.state };
  }

  /** Asks the worker to stop (it releases the Lease), terminating it if it does not in time. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const worker = this.worker;
    if (!worker) {
      this.state = 'stopped';
      return;
    }
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage({ type: 'stop' } satisfies HostMessage);
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), this.options.stopTimeoutMs ?? 5000).unref());
    if ((await Promise.race([exited, timeout])) === 'timeout') {
      this.log.warn('audit worker did not stop in time; terminated');
      await worker.terminate();
    }
    this.state = 'stopped';
  }

  private received(message: WorkerMessage): void {
    const metrics = this.options.metrics;
    switch (message.type) {
      case 'log':
        this.options.writeLine(message.line);
        return;
      case 'summary':
        this.last = message.summary;
        return;
      case 'objects':
        metrics.objects(message.count);
        return;
      case 'violations':
        metrics.violations(message.counts);
        return;
      case 'run':
        metrics.runFinished(message.result, message.durationSeconds);
        return;
      case 'stopped':
        return;
    }
  }

  private scheduleRestart(code: number): void {
    if (Date.now() - this.startedAt > 60_000) this.restarts = 0;
    const delay = Math.min(this.options.maxRestartDelayMs ?? 30_000, (this.options.restartDelayMs ?? 1000) * 2 ** Math.min(this.restarts++, 10));
    this.state = 'restarting';
    this.options.metrics.workerRestarts.inc();
    this.log.error({ exitCode: code, restartInMs: delay }, 'audit worker exited; starting it again (admissions are not affected)');
    this.restartTimer = setTimeout(() => this.start(), delay);
    this.restartTimer.unref?.();
  }
}
