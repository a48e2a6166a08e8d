/**
 * What the audit worker thread and `serve` say to each other. Plain data only (structured clone):
 * the worker builds its own schema and policy registries from the same sources as the server.
 */
import type { ValidationOptions } from '../backend/options.js';
import type { AuditSummary } from './background.js';
import type { ReportFormat } from './policy-report.js';

export interface AuditWorkerConfig {
  readonly kubeconfig?: string;
  readonly trustedNamespaces: readonly string[];
  readonly policyDir?: string;
  /** The server's validation options, without the live ReferenceGrant lookup (the worker has its own). */
  readonly validation: Omit<ValidationOptions, 'referenceGrants'>;
  readonly intervalMs: number;
  /** Most of a core the audit's judging takes (0-1). */
  readonly cpuShare: number;
  readonly reportFormat: ReportFormat;
  readonly leaseNamespace: string;
  readonly identity: string;
  readonly logLevel: string;
}

export type WorkerMessage =
  | { readonly type: 'log'; readonly line: string }
  | { readonly type: 'summary'; readonly summary: AuditSummary }
  | { readonly type: 'objects'; readonly count: number }
  | { readonly type: 'violations'; readonly counts: ReadonlyMap<string, ReadonlyMap<string, number>> }
  | { readonly type: 'run'; readonly result: 'success' | 'error'; readonly durationSeconds?: number }
  | { readonly type: 'stopped' };

export type HostMessage = { readonly type: 'stop' };
