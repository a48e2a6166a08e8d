/** Everything `serve` needs, resolved from flags and environment variables. */
import type { ValidationOptions } from '../backend/options.js';

export interface ServeConfig {
  port: number;
  host: string;
  certDir: string;
  tlsCertFile?: string;
  tlsKeyFile?: string;
  clientCaFile?: string;
  certRenewBeforeDays: number;
  serviceName: string;
  serviceNamespace: string;
  schemaSource: 'files' | 'kubernetes';
  schemaDir: string;
  /** Directory of platform-policy ConfigMap files (watched); undefined: none. */
  policyDir?: string;
  trustedNamespaces: string[];
  kubeconfig?: string;
  metricsPort: number;
  metricsHost: string;
  bodyLimit: number;
  /** Bytes of bodies read or judged at once; undefined: 4x bodyLimit. */
  admissionMemoryBudget?: number;
  maxDepth: number;
  validation: ValidationOptions;
  logLevel: string;
  /** Most log output held while stdout is slow, in bytes; past it lines are dropped and counted. */
  logBufferSize: number;
  shutdownDelaySeconds: number;
  shutdownGraceSeconds: number;
  injectCa: boolean;
  webhookConfigName: string;
  /** In-cluster audit period (ms); 0: off. Runs only with the kubernetes source. */
  auditIntervalMs: number;
  auditReportFormat: 'wgpolicyk8s' | 'openreports';
  /** Heap limit of the audit worker thread (MiB). */
  auditMaxHeapMiB: number;
  /** Most of a core the audit's judging takes (0-1). */
  auditMaxCpu: number;
}
