/**
 * Wiring of the in-cluster audit into `serve`: on with the cluster source and a non-zero
 * --audit-interval. The audit runs in a worker thread (worker.ts) that follows the same schema and
 * policy sources as the server, so its judging and its garbage never share the admission thread.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { App } from '../admission/app.js';
import type { ValidationOptions } from '../backend/options.js';
import type { Metrics } from '../observability/metrics.js';
import { AuditMetrics } from './metrics.js';
import type { ReportFormat } from './policy-report.js';
import { AuditWorkerHost, type HostedAuditSummary } from './worker-host.js';

export interface AuditConfig {
  readonly schemaSource: 'files' | 'kubernetes';
  readonly kubeconfig?: string;
  readonly policyDir?: string;
  readonly auditIntervalMs: number;
  readonly auditReportFormat: ReportFormat;
  /** Heap limit of the audit worker thread (MiB). */
  readonly auditMaxHeapMiB: number;
  /** Most of a core the audit's judging takes (0-1). */
  readonly auditMaxCpu: number;
  readonly trustedNamespaces: readonly string[];
  readonly serviceNamespace: string;
  readonly validation: ValidationOptions;
  readonly logLevel: string;
}

export interface AuditRuntime {
  summary(): HostedAuditSummary | { enabled: false; reason: string };
  stop(): Promise<void>;
}

export function startAudit(config: AuditConfig, deps: { logger: Logger; metrics: Metrics; writeLine: (line: string) => void }): AuditRuntime {
  if (config.schemaSource !== 'kubernetes' || config.auditIntervalMs === 0) {
    const reason = config.auditIntervalMs === 0 ? '--audit-interval 0' : 'needs --schema-source kubernetes (a cluster to read)';
    return { summary: () => ({ enabled: false, reason }), stop: async () => undefined };
  }
  const { referenceGrants: _live, ...validation } = config.validation;
  const host = new AuditWorkerHost({
    config: {
      ...(config.kubeconfig === undefined ? {} : { kubeconfig: config.kubeconfig }),
      ...(config.policyDir === undefined ? {} : { policyDir: config.policyDir }),
      trustedNamespaces: config.trustedNamespaces,
      validation,
      intervalMs: config.auditIntervalMs,
      cpuShare: config.auditMaxCpu,
      reportFormat: config.auditReportFormat,
      leaseNamespace: process.env.POD_NAMESPACE || config.trustedNamespaces[0] || config.serviceNamespace,
      identity: `${process.env.POD_NAME || hostname()}_${randomBytes(4).toString('hex')}`,
      logLevel: config.logLevel,
    },
    maxHeapMiB: config.auditMaxHeapMiB,
    writeLine: deps.writeLine,
    logger: deps.logger,
    metrics: new AuditMetrics(deps.metrics.registry),
  });
  host.start();
  return { summary: () => host.summary(), stop: () => host.stop() };
}

/** GET /audit: what the last audit found, per namespace, and who writes the reports. */
export function auditRoute(runtime: Pick<AuditRuntime, 'summary'>): (app: App) => void {
  return (app) => {
    app.get('/audit', async () => runtime.summary());
  };
}
