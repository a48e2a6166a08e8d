/**
 * Wiring of the in-cluster audit into `serve`: on with the cluster source and a non-zero
 * --audit-interval. The judges' context is the admission path's own (schemas, policies, options),
 * without the policy-decision recorder: audit verdicts are not admissions and must not count as such.
 */
import { randomBytes } from 'node:crypto';
import { clusterKubeConfig } from '../kube/kubeconfig.js';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { App } from '../admission/app.js';
import type { ValidationOptions } from '../backend/options.js';
import type { Metrics } from '../observability/metrics.js';
import type { PolicyRuntime } from '../policies/startup.js';
import type { SchemaLookup } from '../schemas/registry.js';
import { BackgroundAudit, type AuditSummary } from './background.js';
import type { ReportFormat } from './policy-report.js';
import { AUDITED_RESOURCES } from './run.js';

export interface AuditConfig {
  readonly schemaSource: 'files' | 'kubernetes';
  readonly kubeconfig?: string;
  readonly auditIntervalMs: number;
  readonly auditReportFormat: ReportFormat;
  readonly trustedNamespaces: readonly string[];
  readonly serviceNamespace: string;
  readonly validation: ValidationOptions;
}

export interface AuditRuntime {
  summary(): AuditSummary | { enabled: false; reason: string };
  stop(): Promise<void>;
}

export async function startAudit(
  config: AuditConfig,
  deps: { logger: Logger; metrics: Metrics; schemas: { snapshot(): SchemaLookup }; policies: PolicyRuntime },
): Promise<AuditRuntime> {
  if (config.schemaSource !== 'kubernetes' || config.auditIntervalMs === 0) {
    const reason = config.auditIntervalMs === 0 ? '--audit-interval 0' : 'needs --schema-source kubernetes (a cluster to read)';
    return { summary: () => ({ enabled: false, reason }), stop: async () => undefined };
  }
  const k8s = await import('@kubernetes/client-node');
  const kubeConfig = clusterKubeConfig(k8s, config.kubeconfig === undefined ? {} : { kubeconfigPath: config.kubeconfig });
  const leaseNamespace = process.env.POD_NAMESPACE || config.trustedNamespaces[0] || config.serviceNamespace;
  const audit = new BackgroundAudit({
    kubeConfig,
    resources: AUDITED_RESOURCES,
    handler: () => ({
      schemas: deps.schemas.snapshot(),
      options: config.validation,
      policies: { policies: deps.policies.registry.snapshot(), namespaces: deps.policies.namespaces },
    }),
    rulesVersion: () => [deps.schemas.snapshot(), deps.policies.registry.snapshot()],
    intervalMs: config.auditIntervalMs,
    reportFormat: config.auditReportFormat,
    leaseNamespace,
    identity: `${process.env.POD_NAME || hostname()}_${randomBytes(4).toString('hex')}`,
    logger: deps.logger,
    registry: deps.metrics.registry,
  });
  await audit.start();
  return { summary: () => audit.summary(), stop: () => audit.stop() };
}

/** GET /audit: what the last audit found, per namespace, and who writes the reports. */
export function auditRoute(runtime: Pick<AuditRuntime, 'summary'>): (app: App) => void {
  return (app) => {
    app.get('/audit', async () => runtime.summary());
  };
}
