/**
 * Shutdown gives buffered log lines the time left of delay + grace to reach stdout, and never more:
 * a flush that never completes (a stdout nobody reads) cannot keep the process past delay + grace.
 */
import pino from 'pino';
import { expect, it } from 'vitest';
import type { App } from '../../src/admission/app.js';
import { ShutdownController } from '../../src/lifecycle/shutdown.js';

function fakeApp(): App {
  return {
    addHook: () => undefined,
    close: async () => undefined,
    server: { closeAllConnections: () => undefined },
  } as unknown as App;
}

function run(flushLogs: (withinMs: number) => Promise<void>, delayMs: number, graceMs: number): Promise<{ code: number; afterMs: number; flushedWithin: number[] }> {
  const flushedWithin: number[] = [];
  const started = Date.now();
  return new Promise((resolve) => {
    const controller = new ShutdownController({
      app: fakeApp(),
      logger: pino({ level: 'silent' }),
      delayMs,
      graceMs,
      cleanups: [],
      flushLogs: (withinMs) => {
        flushedWithin.push(withinMs);
        return flushLogs(withinMs);
      },
      exit: (code) => resolve({ code, afterMs: Date.now() - started, flushedWithin }),
    });
    void controller.shutdown('test');
  });
}

it('flushes the logs before exiting, offering at most the time left of delay + grace', async () => {
  let flushed = false;
  const result = await run(async () => {
    flushed = true;
  }, 50, 2000);
  expect(flushed).toBe(true);
  expect(result.code).toBe(0);
  expect(result.flushedWithin).toHaveLength(1);
  expect(result.flushedWithin[0]).toBeGreaterThan(0);
  expect(result.flushedWithin[0]).toBeLessThanOrEqual(2050);
});

it('exits by the end of the grace period when the flush never completes', async () => {
  const result = await run(() => new Promise<void>(() => undefined), 50, 500);
  // The force timer ends it (code 1) instead of waiting for ever; generous bound for a loaded machine.
  expect(result.code).toBe(1);
  expect(result.afterMs).toBeLessThan(10_000);
});
