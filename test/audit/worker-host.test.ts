/**
 * The server's side of the audit worker thread (src/audit/worker-host.ts) with stand-in workers
 * (test/support/audit-workers/): what a worker says reaches the log, the metrics and GET /audit; a
 * worker that crashes or runs out of heap is started again while this thread goes on; a worker
 * that does not stop when asked is terminated. The real worker is tested through the built
 * program in serve-audit.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditMetrics } from '../../src/audit/metrics.js';
import { AuditWorkerHost } from '../../src/audit/worker-host.js';
import type { AuditWorkerConfig } from '../../src/audit/worker-protocol.js';
import { DEFAULT_VALIDATION_OPTIONS } from '../../src/backend/options.js';
import { until } from '../policies/support.js';

const standIn = (file: string): URL => new URL(`../support/audit-workers/${file}`, import.meta.url);

const hosts: AuditWorkerHost[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.stop()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function host(file: string, overrides: { stopTimeoutMs?: number; maxHeapMiB?: number; restartDelayMs?: number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'bw-worker-host-'));
  dirs.push(dir);
  const lines: string[] = [];
  const logs: any[] = [];
  const registry = new Registry();
  const config = { dir, trustedNamespaces: [], validation: DEFAULT_VALIDATION_OPTIONS, intervalMs: 0, cpuShare: 1, reportFormat: 'wgpolicyk8s', leaseNamespace: 'x', identity: 'i', logLevel: 'info' } as AuditWorkerConfig;
  const h = new AuditWorkerHost({
    config,
    workerUrl: standIn(file),
    maxHeapMiB: overrides.maxHeapMiB ?? 64,
    writeLine: (line) => void lines.push(line),
    logger: pino({ level: 'info' }, { write: (l: string) => void logs.push(JSON.parse(l)) }),
    metrics: new AuditMetrics(registry),
    restartDelayMs: overrides.restartDelayMs ?? 200,
    ...(overrides.stopTimeoutMs ? { stopTimeoutMs: overrides.stopTimeoutMs } : {}),
  });
  hosts.push(h);
  const metric = async (name: string): Promise<number | undefined> => (await registry.getSingleMetric(name)?.get())?.values.reduce((a, v) => a + v.value, 0);
  return { h, lines, logs, metric };
}

describe('audit worker host', { timeout: 30_000 }, () => {
  it("relays the worker's log lines, metrics and summary; a crashed worker is started again", async () => {
    const { h, lines, logs, metric } = host('crash-once.mjs', { restartDelayMs: 2000 });
    expect(h.summary()).toMatchObject({ enabled: true, worker: 'stopped', reports: 'starting' });
    h.start();
    await until(() => lines.some((l) => l.includes('"first":true')), 'first worker log line');
    await until(() => logs.some((l) => l.msg === 'audit worker exited; starting it again (admissions are not affected)'), 'restart logged');
    expect(await metric('backend_webhook_audit_worker_restarts_total')).toBe(1);
    // Between the crash and the restart, what it found stays readable, but nothing is written.
    expect(h.summary()).toMatchObject({ worker: 'restarting', leader: false, reports: 'standby', objects: 1 });
    await until(() => lines.some((l) => l.includes('"first":false')), 'second worker log line');
    await until(() => h.summary().objects === 2, 'summary of the restarted worker');
    expect(h.summary()).toMatchObject({ worker: 'running', leader: true, reports: 'writing' });
    expect(lines.every((l) => l.endsWith('\n'))).toBe(true);
    expect(await metric('backend_webhook_audit_objects')).toBe(2);
    expect(await metric('backend_webhook_audit_runs_total')).toBe(2);
    expect(await metric('backend_webhook_audit_violations')).toBe(3);
    expect(logs.find((l) => l.msg === 'audit worker failed')?.err?.message).toBe('stand-in audit worker crashed');
  });

  it('a worker past its heap limit dies alone and is started again', async () => {
    const { h, logs, metric } = host('out-of-memory.mjs', { maxHeapMiB: 32 });
    h.start();
    await until(async () => ((await metric('backend_webhook_audit_worker_restarts_total')) ?? 0) >= 1, 'restart after out of memory', 25_000);
    expect(logs.find((l) => l.msg === 'audit worker failed')).toMatchObject({ code: 'ERR_WORKER_OUT_OF_MEMORY' });
    // This thread (the server's, in serve) is untouched and the host still answers.
    expect(h.summary()).toMatchObject({ enabled: true });
    await h.stop();
    expect(h.summary().worker).toBe('stopped');
  });

  it('stop() asks the worker to stop and does not start it again', async () => {
    const { h, lines, metric } = host('crash-once.mjs');
    h.start();
    await until(() => h.summary().objects === 2, 'restarted worker running');
    await h.stop();
    expect(h.summary().worker).toBe('stopped');
    const seen = lines.length;
    await new Promise((r) => setTimeout(r, 600));
    expect(lines.length).toBe(seen);
    expect(await metric('backend_webhook_audit_worker_restarts_total')).toBe(1);
  });

  it('a worker that does not stop in time is terminated', async () => {
    const { h, logs } = host('deaf.mjs', { stopTimeoutMs: 300 });
    h.start();
    await new Promise((r) => setTimeout(r, 200));
    const started = Date.now();
    await h.stop();
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(logs.some((l) => l.msg === 'audit worker did not stop in time; terminated')).toBe(true);
    expect(h.summary().worker).toBe('stopped');
  });
});
