/**
 * Graceful shutdown shaped by real rollout failures: when SIGTERM arrives, the Service endpoints and
 * the API server's keep-alive connections still point at this pod for a while. So readiness turns
 * false at once, answers keep flowing for `delayMs` (with `Connection: close`, so callers reconnect
 * elsewhere), then the listener stops accepting, in-flight requests finish, idle connections close,
 * and the process exits within `graceMs`.
 */
import type { Logger } from 'pino';
import type { App } from '../admission/app.js';

export interface ShutdownOptions {
  app: App;
  logger: Logger;
  delayMs: number;
  graceMs: number;
  /** Other things to stop after the listener (sources, watchers, the metrics server). */
  cleanups: Array<() => Promise<void> | void>;
  /**
   * Gives buffered log lines a chance to reach stdout before exit, within the time left of
   * delay + grace (never more: the exit must not wait on a stalled stdout).
   */
  flushLogs?: (withinMs: number) => Promise<void>;
  /** Called with the exit code when done; `process.exit` in production. */
  exit: (code: number) => void;
}

export class ShutdownController {
  private draining = false;
  private done: Promise<void> | undefined;

  constructor(private readonly options: ShutdownOptions) {
    // While draining, tell every caller not to reuse the connection. A callback hook, not an async
    // one: it runs on every response, and a promise per response is measurable.
    options.app.addHook('onSend', (_request, reply, payload, done) => {
      if (this.draining) reply.header('connection', 'close');
      done(null, payload);
    });
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** Installs SIGTERM/SIGINT handlers; a second signal exits at once. */
  installSignalHandlers(): void {
    const onSignal = (signal: NodeJS.Signals): void => {
      if (this.draining) {
        this.options.logger.warn({ signal }, 'second signal: exiting now');
        this.options.exit(1);
        return;
      }
      void this.shutdown(signal);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  }

  shutdown(reason: string): Promise<void> {
    this.done ??= this.run(reason);
    return this.done;
  }

  private async run(reason: string): Promise<void> {
    const { app, logger, delayMs, graceMs, cleanups, exit, flushLogs } = this.options;
    const exitBy = Date.now() + delayMs + graceMs;
    this.draining = true;
    logger.info({ reason, delayMs, graceMs }, 'shutdown: not ready; still answering during the delay');
    await new Promise((resolve) => setTimeout(resolve, delayMs));

    logger.info('shutdown: closing the listener; finishing in-flight requests');
    const force = setTimeout(() => {
      logger.warn({ graceMs }, 'shutdown: grace period over; closing remaining connections');
      app.server.closeAllConnections();
      exit(1);
    }, graceMs);
    force.unref();
    let code = 0;
    try {
      await app.close();
      for (const cleanup of cleanups) await cleanup();
    } catch (err) {
      logger.error({ err }, 'shutdown: error while closing');
      code = 1;
    }
    logger.info({ code }, 'shutdown: done');
    // Still under the force timer: a flush that hangs cannot keep the process past delay + grace.
    if (flushLogs) await flushLogs(Math.max(0, exitBy - Date.now())).catch(() => undefined);
    clearTimeout(force);
    exit(code);
  }
}
