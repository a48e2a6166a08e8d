/**
 * Every Prometheus metric the webhook exposes, in one registry owned by the process (not the
 * prom-client global), so tests can build several servers side by side.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class Metrics {
  readonly registry = new Registry();

  /** endpoint: validate|mutate|validate-extension-schema; result: allowed|denied|error|patched. */
  readonly admissionRequests = new Counter({
    name: 'backend_webhook_admission_requests_total',
    help: 'Admission requests answered, by endpoint, kind, operation and result.',
    labelNames: ['endpoint', 'kind', 'operation', 'result'] as const,
    registers: [this.registry],
  });

  readonly admissionDuration = new Histogram({
    name: 'backend_webhook_admission_duration_seconds',
    help: 'Time from request received to answer sent, by endpoint.',
    labelNames: ['endpoint'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });

  readonly admissionBatchSize = new Histogram({
    name: 'backend_webhook_admission_batch_size',
    help: 'Admission requests judged together in one event-loop turn (requests that arrived together).',
    buckets: [1, 2, 4, 8, 16, 32, 64],
    registers: [this.registry],
  });

  readonly admissionWarnings = new Counter({
    name: 'backend_webhook_admission_warnings_total',
    help: 'Warnings returned to API clients, by endpoint and kind.',
    labelNames: ['endpoint', 'kind'] as const,
    registers: [this.registry],
  });

  /** Requests refused before judging (bad JSON, wrong kind, too large, ...), by reason code. */
  readonly badRequests = new Counter({
    name: 'backend_webhook_bad_requests_total',
    help: 'Requests refused before any object was judged, by reason.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  /** Our own failures: a processor that threw (source=processor), a stray rejection (source=process). */
  readonly internalErrors = new Counter({
    name: 'backend_webhook_internal_errors_total',
    help: 'Internal errors caught and survived, by source.',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });

  readonly registrySize = new Gauge({
    name: 'backend_webhook_extension_schemas',
    help: 'Extension schemas in force, by source kind.',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });

  /** event: loaded|replaced|deleted|rejected|ignored_untrusted|duplicate|watch_error|relisted */
  readonly registryEvents = new Counter({
    name: 'backend_webhook_registry_events_total',
    help: 'Schema and policy registry events, by registry and event.',
    labelNames: ['registry', 'event'] as const,
    registers: [this.registry],
  });

  readonly certificateReloads = new Counter({
    name: 'backend_webhook_certificate_reloads_total',
    help: 'Serving certificate reloads from disk, by result (success|error).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly certificateExpiry = new Gauge({
    name: 'backend_webhook_certificate_expiry_timestamp_seconds',
    help: 'notAfter of the serving certificate in force, as a Unix timestamp.',
    registers: [this.registry],
  });

  readonly policyDecisions = new Counter({
    name: 'backend_webhook_policy_decisions_total',
    help: 'Platform policy decisions, by policy (namespace/name), rule and action (deny|warn|default).',
    labelNames: ['policy', 'rule', 'action'] as const,
    registers: [this.registry],
  });

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry });
  }
}
