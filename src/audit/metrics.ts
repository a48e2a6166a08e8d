/** The audit's metrics, on the process's registry. Namespaces are a bounded label: top N, then `other`. */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export const TOP_NAMESPACES = 20;

/** What the audit reports to metrics: the process's registry here, or a relay from the audit worker. */
export interface AuditMetricsSink {
  objects(count: number): void;
  violations(counts: ReadonlyMap<string, ReadonlyMap<string, number>>): void;
  runFinished(result: 'success' | 'error', durationSeconds?: number): void;
}

export class AuditMetrics implements AuditMetricsSink {
  readonly violationsGauge: Gauge<'kind' | 'namespace'>;
  readonly runs: Counter<'result'>;
  readonly duration: Histogram;
  readonly lastRun: Gauge;
  readonly objectsGauge: Gauge;
  readonly workerRestarts: Counter;

  constructor(registry: Registry) {
    this.violationsGauge = new Gauge({
      name: 'backend_webhook_audit_violations',
      help: 'Stored objects that would be refused if written today, by kind and namespace (top namespaces, then "other").',
      labelNames: ['kind', 'namespace'] as const,
      registers: [registry],
    });
    this.runs = new Counter({ name: 'backend_webhook_audit_runs_total', help: 'Full audit runs, by result (success|error).', labelNames: ['result'] as const, registers: [registry] });
    this.duration = new Histogram({ name: 'backend_webhook_audit_duration_seconds', help: 'Time a full audit run took.', buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60], registers: [registry] });
    this.lastRun = new Gauge({ name: 'backend_webhook_audit_last_run_timestamp_seconds', help: 'When the last full audit run finished, as a Unix timestamp.', registers: [registry] });
    this.objectsGauge = new Gauge({ name: 'backend_webhook_audit_objects', help: 'Stored objects the audit follows.', registers: [registry] });
    this.workerRestarts = new Counter({ name: 'backend_webhook_audit_worker_restarts_total', help: 'Times the audit worker thread died (a crash, its heap limit) and was started again.', registers: [registry] });
  }

  objects(count: number): void {
    this.objectsGauge.set(count);
  }

  runFinished(result: 'success' | 'error', durationSeconds?: number): void {
    this.runs.inc({ result });
    if (result !== 'success') return;
    if (durationSeconds !== undefined) this.duration.observe(durationSeconds);
    this.lastRun.set(Date.now() / 1000);
  }

  /** Replaces the violation series: the namespaces with most violations, the rest summed as `other`. */
  violations(counts: ReadonlyMap<string, ReadonlyMap<string, number>>): void {
    this.violationsGauge.reset();
    const totals = [...counts].map(([ns, byKind]) => [ns, [...byKind.values()].reduce((a, b) => a + b, 0)] as const);
    totals.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    const top = new Set(totals.slice(0, TOP_NAMESPACES).map(([ns]) => ns));
    for (const [ns, byKind] of counts) {
      for (const [kind, n] of byKind) this.violationsGauge.inc({ kind, namespace: top.has(ns) ? ns : 'other' }, n);
    }
  }
}
