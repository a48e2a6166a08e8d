/**
 * Every Prometheus metric the webhook exposes, in one registry owned by the process (not the
 * prom-client global), so tests can build several servers side by side.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { FastHistogram } from './fast-histogram.js';

export class Metrics {
  readonly registry = new Registry();

  /** Counts of the admission path, kept as plain numbers and folded in when scraped. */
  private readonly requestTallies = new Map<string, RequestTally>();

  /**
   * endpoint: validate|mutate|validate-extension-schema; result: allowed|denied|patched, or error:
   * every answer that is not a verdict on the object (a bad request, in-band or HTTP 400, and our own
   * failure, in-band code 500).
   * Count admissions through admissionRequestTally(); `inc` here works too (other callers, tests).
   */
  readonly admissionRequests = new Counter({
    name: 'backend_webhook_admission_requests_total',
    help: 'Admission requests answered, by endpoint, kind, operation and result.',
    labelNames: ['endpoint', 'kind', 'operation', 'result'] as const,
    registers: [this.registry],
    collect: () => this.foldRequestTallies(),
  });

  readonly admissionDuration = new FastHistogram(
    'backend_webhook_admission_duration_seconds',
    'Time from request received to answer sent, by endpoint.',
    'endpoint',
    // Up to the webhook configurations' 5 s timeout, so a p99 above 1 s (the latency alert) is a
    // real quantile and not the top bucket's bound.
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 2.5, 5],
    this.registry,
  );

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

  /** The admission memory budget (admission/budget.ts): requests that waited for room, or were refused (429). */
  readonly admissionOverload = new Counter({
    name: 'backend_webhook_admission_overload_total',
    help: 'Admission requests that waited for the memory budget (outcome=waited) or were refused with code 429 (outcome=refused).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  private admissionMemory: { inUse: () => number; waiting: () => number; capacity: number } | undefined;

  readonly admissionMemoryBytes = new Gauge({
    name: 'backend_webhook_admission_memory_bytes',
    help: 'Bytes of request bodies being read or judged (state=in_use), and the budget for them (state=capacity).',
    labelNames: ['state'] as const,
    registers: [this.registry],
    collect: () => {
      if (!this.admissionMemory) return;
      this.admissionMemoryBytes.set({ state: 'in_use' }, this.admissionMemory.inUse());
      this.admissionMemoryBytes.set({ state: 'capacity' }, this.admissionMemory.capacity);
    },
  });

  readonly admissionMemoryWaiting = new Gauge({
    name: 'backend_webhook_admission_memory_waiting',
    help: 'Admission requests waiting for room in the memory budget.',
    registers: [this.registry],
    collect: () => {
      if (this.admissionMemory) this.admissionMemoryWaiting.set(this.admissionMemory.waiting());
    },
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

  /**
   * When a registry's cluster watch started failing without a successful (re)list since: the oldest
   * such failure over its watched scopes (namespaces), as a Unix timestamp; 0 while in sync.
   */
  readonly registryStaleSince = new Gauge({
    name: 'backend_webhook_registry_stale_since_timestamp_seconds',
    help: 'Oldest cluster watch failure not yet followed by a successful (re)list, by registry (0: in sync).',
    labelNames: ['registry'] as const,
    registers: [this.registry],
  });

  /** ConfigMaps whose newest version was refused (their last good version, if any, still serves). */
  readonly registryRejectedEntries = new Gauge({
    name: 'backend_webhook_registry_rejected_entries',
    help: 'ConfigMaps whose newest version was rejected, by registry.',
    labelNames: ['registry'] as const,
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

  /** 1 while the newest files on disk are the pair in force; 0 after a refused reload (the old pair serves). */
  readonly certificateLastReloadSuccessful = new Gauge({
    name: 'backend_webhook_certificate_last_reload_successful',
    help: 'Whether the last serving certificate reload succeeded (1) or was refused, keeping the previous pair (0).',
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

  /** Lines the log sink dropped because stdout did not keep up (observability/log-sink.ts). */
  readonly logLinesDropped = new Counter({
    name: 'backend_webhook_log_lines_dropped_total',
    help: 'Log lines dropped because stdout did not take them fast enough (its reader stalled) or is gone.',
    registers: [this.registry],
    collect: () => this.foldLogDrops(),
  });

  private readonly logDropsSource: (() => number) | undefined;
  private logDropsReported = 0;

  constructor(options: { processMetrics?: boolean; logLinesDropped?: () => number } = {}) {
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry });
    this.logDropsSource = options.logLinesDropped;
  }

  private foldLogDrops(): void {
    const total = this.logDropsSource?.() ?? 0;
    if (total > this.logDropsReported) {
      this.logLinesDropped.inc(total - this.logDropsReported);
      this.logDropsReported = total;
    }
  }

  /** Reports the admission memory budget in admissionMemoryBytes (read when scraped). */
  watchAdmissionMemory(inUse: () => number, waiting: () => number, capacity: number): void {
    this.admissionMemory = { inUse, waiting, capacity };
  }

  /** A counter of admissionRequests for one label set: `tally.count++` on the request path. */
  admissionRequestTally(endpoint: string, kind: string, operation: string, result: string): RequestTally {
    const key = `${endpoint}\u0000${kind}\u0000${operation}\u0000${result}`;
    let tally = this.requestTallies.get(key);
    if (!tally) {
      tally = { labels: { endpoint, kind, operation, result }, count: 0, reported: 0 };
      this.requestTallies.set(key, tally);
    }
    return tally;
  }

  private foldRequestTallies(): void {
    for (const tally of this.requestTallies.values()) {
      if (tally.count > tally.reported) {
        this.admissionRequests.inc(tally.labels, tally.count - tally.reported);
        tally.reported = tally.count;
      }
    }
  }
}

export interface RequestTally {
  readonly labels: { endpoint: string; kind: string; operation: string; result: string };
  /** Admissions counted so far. */
  count: number;
  /** How many of them prom-client has been told about. */
  reported: number;
}
