/**
 * The in-cluster audit of `serve`: follows every stored object of the served kinds (list + watch),
 * judges each as a CREATE of itself with the server's current schemas and policies, and keeps one
 * PolicyReport per namespace up to date. It re-judges everything when a schema or policy changes
 * (debounced) and every interval, and one object whenever it changes. Judging runs in small slices
 * that yield the event loop, so admissions keep their latency while thousands of objects are judged.
 *
 * Only the holder of the writer Lease writes reports; every replica judges (for GET /audit and the
 * metrics). Reports are written only when their content changed.
 *
 * Memory: no cache of objects at all, as Gatekeeper's audit lists from the API server by default.
 * Per object we keep its identity, resourceVersion and verdict (one shared marker when it has
 * nothing to say); a watch event is judged from the event, and a full run (rules changed, interval)
 * is a fresh paged list, judged page by page. So memory grows by a few hundred bytes an object, and
 * the API server serves one paged list per run. In `serve` this class runs in a worker thread
 * (worker.ts).
 */
import type { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { setImmediate as yieldLoop, setTimeout as sleep } from 'node:timers/promises';
import { getHeapStatistics } from 'node:v8';
import type { HandlerContext } from '../admission/handlers.js';
import { judgeDocument, type ObjectResult } from '../offline/judge.js';
import type { AuditedResource } from './cluster.js';
import { firstLine, statusOf } from '../kube/errors.js';
import { ListWatch } from '../kube/list-watch.js';
import { LeaderLease } from './lease.js';
import type { AuditMetricsSink } from './metrics.js';
import { REPORT_API, REPORT_NAME, reportBodies, reportObject, type AuditedObject, type ReportBody, type ReportFormat } from './policy-report.js';

export interface BackgroundAuditOptions {
  readonly kubeConfig: KubeConfig;
  readonly resources: readonly AuditedResource[];
  /** The judges' context as the admission path has it right now. */
  readonly handler: () => HandlerContext;
  /** Snapshots whose identities change whenever schemas or policies change (copy-on-write). */
  readonly rulesVersion: () => readonly unknown[];
  /** The rules are loaded (schemas, policies, grants): until then nothing is judged. Default: always. */
  readonly ready?: () => boolean;
  readonly intervalMs: number;
  readonly debounceMs?: number;
  /** Objects judged between two yields of the event loop, at most. */
  readonly sliceSize?: number;
  /** Longest a slice of judging keeps the event loop (ms), default 1. */
  readonly sliceMs?: number;
  /**
   * Most of a core judging takes (0-1, default 1): after each slice the audit pauses long enough to
   * stay under it, so under a pod's CPU limit it cannot use up the quota the admissions need.
   */
  readonly cpuShare?: number;
  readonly reportFormat: ReportFormat;
  readonly leaseNamespace: string;
  readonly leaseName?: string;
  readonly identity: string;
  readonly leaseDurationMs?: number;
  /** Fresh list of every resource this often, bounding staleness when a watch dies silently. */
  readonly relistIntervalMs?: number;
  readonly logger: Logger;
  readonly metrics: AuditMetricsSink;
}

export interface AuditSummary {
  readonly enabled: true;
  readonly leader: boolean;
  readonly objects: number;
  readonly violations: number;
  readonly warnings: number;
  readonly lastRun?: string;
  readonly lastRunDurationMs?: number;
  readonly reportsWritten: number;
  readonly reports: 'writing' | 'crd-absent' | 'standby';
  readonly namespaces: Array<{ namespace: string; fail: number; warn: number; pass: number }>;
}

type Verdict = Pick<ObjectResult, 'outcome' | 'errors' | 'warnings'>;

/** The verdict of every object admitted as written with nothing to say: one object, shared. */
const CLEAN: Verdict = Object.freeze({ outcome: 'valid', errors: Object.freeze([]), warnings: Object.freeze([]) }) as Verdict;

interface Stored {
  readonly resource: AuditedResource;
  readonly namespace: string;
  readonly name: string;
  readonly uid?: string;
  readonly resourceVersion?: string;
  /** The list (by number, per resource) that last delivered it: what a full list did not deliver is gone. */
  listed: number;
  /** The rules epoch it was judged under: a full run bumps the epoch, so every object is judged again. */
  epoch: number;
  verdict: Verdict;
}

const keyOf = (resource: AuditedResource, ns: string, name: string): string => `${resource.group}/${resource.plural}/${ns}/${name}`;

export class BackgroundAudit {
  readonly metrics: AuditMetricsSink;
  private readonly store = new Map<string, Stored>();
  private readonly log: Logger;
  private lease!: LeaderLease;
  private custom!: CustomObjectsApi;
  private stopped = false;
  private timers = new Set<NodeJS.Timeout>();
  private readonly watches: ListWatch[] = [];
  private readonly listNumber = new Map<AuditedResource, number>();
  private lastRulesVersion: readonly unknown[] = [];
  private runPending = false;
  /** The pending run re-judges everything (rules changed, interval), not only what is new or changed. */
  private pendingRunAll = false;
  /** Bumped by every full run: objects judged under an older epoch are judged again when listed. */
  private epoch = 0;
  private owedRestMs = 0;
  /** Time spent judging (not resting) since the current run began. */
  private judgingMs = 0;
  private running: Promise<void> | undefined;
  private writeScheduled = false;
  private reportsState: 'writing' | 'crd-absent' | 'standby' = 'standby';
  private written = new Map<string, string>();
  private reportsWritten = 0;
  private lastRun: { at: Date; durationMs: number } | undefined;
  private k8s: typeof import('@kubernetes/client-node') | undefined;
  private crdAbsentLogged = false;
  private afterJudgingScheduled = false;
  private findingsSummary: Pick<AuditSummary, 'violations' | 'warnings' | 'namespaces'> | undefined;

  constructor(private readonly options: BackgroundAuditOptions) {
    this.log = options.logger.child({ component: 'audit' });
    this.metrics = options.metrics;
  }

  async start(): Promise<void> {
    this.k8s = await import('@kubernetes/client-node');
    this.custom = this.options.kubeConfig.makeApiClient(this.k8s.CustomObjectsApi);
    this.lease = new LeaderLease({
      api: this.custom,
      namespace: this.options.leaseNamespace,
      name: this.options.leaseName ?? 'backend-webhook-audit',
      identity: this.options.identity,
      leaseDurationMs: this.options.leaseDurationMs ?? 15_000,
      logger: this.log,
      onChange: (leader) => {
        this.log.info({ leader }, leader ? 'audit: this replica writes the reports' : 'audit: another replica writes the reports');
        this.written.clear();
        if (leader) this.scheduleWrite();
      },
    });
    this.lease.start();
    for (const resource of this.options.resources) this.follow(resource);
    // The first run lists every resource, then watches from there.
    this.requestRun('start', true, 0);
    this.lastRulesVersion = this.options.rulesVersion();
    this.every(1000, () => {
      const version = this.options.rulesVersion();
      if (version.length !== this.lastRulesVersion.length || version.some((v, i) => v !== this.lastRulesVersion[i])) {
        this.lastRulesVersion = version;
        this.requestRun('schemas or policies changed', true);
      }
    });
    if (this.options.intervalMs > 0) this.every(this.options.intervalMs, () => this.requestRun('interval', true));
    // A fresh list now and then, judging only what changed: repairs a watch that died without a word.
    this.every(this.options.relistIntervalMs ?? 5 * 60_000, () => this.requestRun('relist', false));
  }

  /** Stops following and writing; the Lease is released (unless told not to, as a crash would). */
  async stop(options: { releaseLease?: boolean } = {}): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const w of this.watches) w.stop();
    await this.running?.catch(() => undefined);
    await this.lease?.stop({ release: options.releaseLease ?? true });
  }

  /** What the last judging found; recomputed only after judging changed something (GET /audit may be polled). */
  summary(): AuditSummary {
    const found = (this.findingsSummary ??= this.summarizeFindings());
    return {
      enabled: true,
      leader: this.lease?.isLeader() ?? false,
      objects: this.store.size,
      ...found,
      ...(this.lastRun ? { lastRun: this.lastRun.at.toISOString(), lastRunDurationMs: Math.round(this.lastRun.durationMs) } : {}),
      reportsWritten: this.reportsWritten,
      reports: this.lease?.isLeader() ? (this.reportsState === 'crd-absent' ? 'crd-absent' : 'writing') : 'standby',
    };
  }

  private summarizeFindings(): Pick<AuditSummary, 'violations' | 'warnings' | 'namespaces'> {
    const bodies = reportBodies(this.audited());
    let violations = 0;
    let warnings = 0;
    const namespaces: AuditSummary['namespaces'] = [];
    for (const [namespace, body] of bodies) {
      namespaces.push({ namespace, fail: body.summary.fail, warn: body.summary.warn, pass: body.summary.pass });
    }
    for (const s of this.store.values()) {
      if (s.verdict?.outcome === 'invalid') violations++;
      warnings += s.verdict?.warnings.length ?? 0;
    }
    return { violations, warnings, namespaces };
  }

  /** Resolves when no judging or report writing is pending (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.running || this.runPending) await (this.running ?? yieldLoop());
  }

  private *audited(): Iterable<AuditedObject> {
    for (const s of this.store.values()) {
      const { group, version, kind } = s.resource;
      yield { apiVersion: `${group}/${version}`, kind, namespace: s.namespace, name: s.name, ...(s.uid ? { uid: s.uid } : {}), result: s.verdict };
    }
  }

  // ---- following the stored objects ----

  private follow(resource: AuditedResource): void {
    const k8s = this.k8s!;
    const name = `${resource.plural}.${resource.group}`;
    const watch = new ListWatch({
      kubeConfig: this.options.kubeConfig,
      api: this.custom,
      watchClass: k8s.Watch,
      resource,
      handlers: {
        listStarted: () => this.listNumber.set(resource, (this.listNumber.get(resource) ?? 0) + 1),
        listPage: (items) => this.judgeListed(resource, items),
        listDone: () => {
          const current = this.listNumber.get(resource);
          for (const [key, stored] of this.store) if (stored.resource === resource && stored.listed !== current) this.store.delete(key);
          this.metrics.objects(this.store.size);
          this.scheduleAfterJudging();
        },
        added: (o) => this.changed(resource, o),
        modified: (o) => this.changed(resource, o),
        deleted: (o) => this.remove(resource, o),
        failed: (reason, retryInMs) => this.log.warn({ resource: name, err: reason, retryInMs }, 'audit watch failed; judged state kept'),
        // No CRD (Gateway API not installed, say): nothing stored, nothing wrong. Said once; looked for again later.
        absent: () => this.log.info({ resource: name }, 'audit: kind not served by this cluster; looking again every minute'),
      },
    });
    this.watches.push(watch);
  }

  /** A page of a list: judged unless its object is unchanged and judged under the current rules. */
  private async judgeListed(resource: AuditedResource, items: readonly Record<string, unknown>[]): Promise<void> {
    const handler = this.options.handler();
    const slice = this.options.sliceSize ?? 50;
    const sliceMs = this.options.sliceMs ?? 1;
    let n = 0;
    let sliceStart = performance.now();
    try {
      for (const item of items) {
        if (!this.record(resource, item, handler, true)) continue;
        // Slices bounded by time as well as count: whatever shares the thread waits at most one slice.
        if (++n % slice === 0 || performance.now() - sliceStart >= sliceMs) {
          n = 0;
          const busy = performance.now() - sliceStart;
          this.judgingMs += busy;
          await this.pause(busy);
          if (this.stopped) return;
          sliceStart = performance.now();
        }
      }
    } finally {
      if (n > 0) this.judgingMs += performance.now() - sliceStart;
    }
  }

  /** After `busyMs` of judging: yield, or rest as long as the CPU share asks (busy / (busy + rest) = share). */
  private async pause(busyMs: number): Promise<void> {
    const share = this.options.cpuShare ?? 1;
    this.owedRestMs += share >= 1 ? 0 : (busyMs * (1 - share)) / share;
    // Timers are coarse (about 1 ms): rest owed is gathered until it is worth a timer.
    if (this.owedRestMs < 2) return yieldLoop();
    const rest = this.owedRestMs;
    this.owedRestMs = 0;
    await sleep(rest);
  }

  private changed(resource: AuditedResource, item: Record<string, unknown>): void {
    if (this.record(resource, item, this.options.handler(), false)) {
      this.metrics.objects(this.store.size);
      this.scheduleAfterJudging();
    }
  }

  /** Judges and keeps the verdict (identity, resourceVersion, verdict: nothing else). True if judged. */
  private record(resource: AuditedResource, item: Record<string, unknown>, handler: HandlerContext, listed: boolean): boolean {
    const meta = (item.metadata ?? {}) as Record<string, unknown>;
    const namespace = String(meta.namespace ?? '');
    const name = String(meta.name ?? '');
    const key = keyOf(resource, namespace, name);
    const resourceVersion = typeof meta.resourceVersion === 'string' ? meta.resourceVersion : undefined;
    const previous = this.store.get(key);
    if (previous && resourceVersion !== undefined && previous.resourceVersion === resourceVersion && previous.epoch === this.epoch) {
      if (listed) previous.listed = this.listNumber.get(resource) ?? 0;
      return false;
    }
    const uid = typeof meta.uid === 'string' ? meta.uid : undefined;
    const stored: Stored = {
      resource,
      namespace,
      name,
      ...(uid ? { uid } : {}),
      ...(resourceVersion ? { resourceVersion } : {}),
      listed: listed ? (this.listNumber.get(resource) ?? 0) : (previous?.listed ?? this.listNumber.get(resource) ?? 0),
      epoch: this.epoch,
      verdict: this.judge(resource, item, handler),
    };
    this.store.set(key, stored);
    return true;
  }

  private remove(resource: AuditedResource, item: Record<string, unknown>): void {
    const meta = (item.metadata ?? {}) as Record<string, unknown>;
    this.store.delete(keyOf(resource, String(meta.namespace ?? ''), String(meta.name ?? '')));
    this.metrics.objects(this.store.size);
    this.scheduleAfterJudging();
  }

  // ---- judging ----

  private isReady(): boolean {
    return this.options.ready?.() ?? true;
  }

  private judge(resource: AuditedResource, item: Record<string, unknown>, handler: HandlerContext): Verdict {
    // As a CREATE of the stored object; a list's items may omit apiVersion and kind.
    const object = { ...item, apiVersion: typeof item.apiVersion === 'string' ? item.apiVersion : `${resource.group}/${resource.version}`, kind: typeof item.kind === 'string' ? item.kind : resource.kind };
    const result = judgeDocument({ file: 'cluster', document: 0, line: 1, object, lineOf: () => 1 }, { handler, configMapReviewers: [], strict: false, showDefaults: false });
    return result.outcome === 'valid' && result.warnings.length === 0 ? CLEAN : { outcome: result.outcome, errors: result.errors, warnings: result.warnings };
  }

  /** `all`: re-judge everything (rules changed, interval); otherwise only what is new or changed. */
  private requestRun(reason: string, all: boolean, debounceMs = this.options.debounceMs ?? 2000): void {
    if (this.stopped) return;
    this.pendingRunAll ||= all;
    if (this.runPending) return;
    this.runPending = true;
    this.after(debounceMs, () => {
      const previous = this.running ?? Promise.resolve();
      this.running = previous.then(() => this.run(reason)).finally(() => {
        this.running = undefined;
      });
    });
  }

  /** A fresh list of every resource; a full run judges every object under a new epoch. */
  private async run(reason: string): Promise<void> {
    this.runPending = false;
    if (this.stopped) return;
    // Judging before the rules are loaded would report every extension as unknown: wait for them.
    if (!this.isReady()) {
      this.requestRun(reason, false, 200);
      return;
    }
    const all = this.pendingRunAll;
    this.pendingRunAll = false;
    if (all) this.epoch++;
    const started = performance.now();
    this.judgingMs = 0;
    const lists = await Promise.allSettled(this.watches.map((w) => w.relist()));
    if (this.stopped) return;
    const failed = lists.find((l): l is PromiseRejectedResult => l.status === 'rejected');
    const durationMs = performance.now() - started;
    if (failed) {
      if (all) this.metrics.runFinished('error');
      this.log.error({ reason, err: firstLine(failed.reason) }, 'audit run failed; judged state kept, retried with the list');
    } else if (all) {
      this.lastRun = { at: new Date(), durationMs };
      this.metrics.runFinished('success', durationMs / 1000);
      // The heap of this thread (the audit worker's own, in serve): what following the cluster costs.
      const heapUsedMiB = Math.round(getHeapStatistics().used_heap_size / 2 ** 20);
      this.log.info({ reason, objects: this.store.size, durationMs: Math.round(durationMs), judgingMs: Math.round(this.judgingMs), heapUsedMiB }, 'audit run finished');
    }
    this.afterJudging();
  }

  /** Single changes come in bursts (a list replayed, a rollout): fold their bookkeeping into one pass. */
  private scheduleAfterJudging(): void {
    if (this.afterJudgingScheduled || this.stopped) return;
    this.afterJudgingScheduled = true;
    this.after(100, () => {
      this.afterJudgingScheduled = false;
      this.afterJudging();
    });
  }

  private afterJudging(): void {
    this.findingsSummary = undefined;
    const counts = new Map<string, Map<string, number>>();
    for (const s of this.store.values()) {
      if (s.verdict?.outcome !== 'invalid') continue;
      const byKind = counts.get(s.namespace) ?? new Map<string, number>();
      byKind.set(s.resource.kind, (byKind.get(s.resource.kind) ?? 0) + 1);
      counts.set(s.namespace, byKind);
    }
    this.metrics.violations(counts);
    this.scheduleWrite();
  }

  // ---- reports ----

  private scheduleWrite(): void {
    if (this.writeScheduled || this.stopped) return;
    this.writeScheduled = true;
    this.after(500, () => {
      this.writeScheduled = false;
      if (!this.lease.isLeader()) return;
      const previous = this.running ?? Promise.resolve();
      this.running = previous.then(() => this.writeReports()).finally(() => {
        this.running = undefined;
      });
    });
  }

  private async writeReports(): Promise<void> {
    const api = REPORT_API[this.options.reportFormat];
    const bodies = reportBodies(this.audited());
    try {
      if (this.written.size === 0) {
        // New writer: learn which reports exist (a previous writer's), so stale ones are removed.
        const listed = (await this.custom.listClusterCustomObject({ group: api.group, version: api.version, plural: api.plural, labelSelector: 'app.kubernetes.io/managed-by=backend-webhook' })) as {
          items?: Array<{ metadata?: { namespace?: string; name?: string } }>;
        };
        for (const item of listed.items ?? []) if (item.metadata?.name === REPORT_NAME && item.metadata.namespace) this.written.set(item.metadata.namespace, '');
      }
      this.reportsState = 'writing';
      for (const [namespace, body] of bodies) {
        const text = JSON.stringify(body);
        if (this.written.get(namespace) === text) continue;
        await this.put(namespace, body);
        this.written.set(namespace, text);
        this.reportsWritten++;
      }
      for (const namespace of [...this.written.keys()]) {
        if (bodies.has(namespace)) continue;
        await this.custom.deleteNamespacedCustomObject({ group: api.group, version: api.version, namespace, plural: api.plural, name: REPORT_NAME }).catch((error: unknown) => {
          if (statusOf(error) !== 404) throw error;
        });
        this.written.delete(namespace);
      }
    } catch (error) {
      if (statusOf(error) === 404 && this.reportsState !== 'writing') {
        this.reportsState = 'crd-absent';
        if (!this.crdAbsentLogged) this.log.warn({ resource: `${api.plural}.${api.group}` }, 'audit: the report CRD is not installed; no reports are written (install manifests/policy-reports/)');
        this.crdAbsentLogged = true;
        this.written.clear();
        return;
      }
      this.log.warn({ err: firstLine(error) }, 'audit: writing reports failed; will retry');
      this.written.clear();
      this.after(5000, () => this.scheduleWrite());
    }
  }

  private async put(namespace: string, body: ReportBody): Promise<void> {
    const api = REPORT_API[this.options.reportFormat];
    const target = { group: api.group, version: api.version, namespace, plural: api.plural };
    let existing: { metadata?: { resourceVersion?: string } } | undefined;
    try {
      existing = (await this.custom.getNamespacedCustomObject({ ...target, name: REPORT_NAME })) as typeof existing;
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
      // 404 on get is also what an absent CRD answers; create tells them apart.
    }
    const object = reportObject(this.options.reportFormat, namespace, body, existing?.metadata?.resourceVersion);
    if (existing) await this.custom.replaceNamespacedCustomObject({ ...target, name: REPORT_NAME, body: object });
    else await this.custom.createNamespacedCustomObject({ ...target, body: object });
  }

  private after(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.stopped) fn();
    }, ms);
    timer.unref?.();
    this.timers.add(timer);
  }

  private every(ms: number, fn: () => void): void {
    const tick = (): void => {
      fn();
      this.after(ms, tick);
    };
    this.after(ms, tick);
  }
}

