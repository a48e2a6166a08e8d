/**
 * The in-cluster audit of `serve`: follows every stored object of the served kinds (list + watch),
 * judges each as a CREATE of itself with the server's current schemas and policies, and keeps one
 * PolicyReport per namespace up to date. It re-judges everything when a schema or policy changes
 * (debounced) and every interval, and one object whenever it changes. Judging runs in small slices
 * that yield the event loop, so admissions keep their latency while thousands of objects are judged.
 *
 * Only the holder of the writer Lease writes reports; every replica judges (for GET /audit and the
 * metrics). Reports are written only when their content changed.
 */
import type { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { setImmediate as yieldLoop } from 'node:timers/promises';
import type { HandlerContext } from '../admission/handlers.js';
import { judgeDocument } from '../offline/judge.js';
import type { AuditedResource } from './cluster.js';
import { firstLine, statusOf } from './kube-errors.js';
import { LeaderLease } from './lease.js';
import { AuditMetrics } from './metrics.js';
import { REPORT_API, REPORT_NAME, reportBodies, reportObject, type AuditedObject, type ReportBody, type ReportFormat } from './policy-report.js';

export interface BackgroundAuditOptions {
  readonly kubeConfig: KubeConfig;
  readonly resources: readonly AuditedResource[];
  /** The judges' context as the admission path has it right now. */
  readonly handler: () => HandlerContext;
  /** Snapshots whose identities change whenever schemas or policies change (copy-on-write). */
  readonly rulesVersion: () => readonly unknown[];
  readonly intervalMs: number;
  readonly debounceMs?: number;
  /** Objects judged between two yields of the event loop, at most. */
  readonly sliceSize?: number;
  /** Longest a slice of judging keeps the event loop (ms), default 1. */
  readonly sliceMs?: number;
  readonly reportFormat: ReportFormat;
  readonly leaseNamespace: string;
  readonly leaseName?: string;
  readonly identity: string;
  readonly leaseDurationMs?: number;
  /** Fresh list of every resource this often, bounding staleness when a watch dies silently. */
  readonly relistIntervalMs?: number;
  readonly logger: Logger;
  readonly registry: Registry;
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

type Stored = { object: Record<string, unknown>; resource: AuditedResource; resourceVersion?: string; audited?: AuditedObject };

const keyOf = (resource: AuditedResource, ns: string, name: string): string => `${resource.group}/${resource.plural}/${ns}/${name}`;

export class BackgroundAudit {
  readonly metrics: AuditMetrics;
  private readonly store = new Map<string, Stored>();
  private readonly log: Logger;
  private lease!: LeaderLease;
  private custom!: CustomObjectsApi;
  private stopped = false;
  private timers = new Set<NodeJS.Timeout>();
  private readonly informers = new Map<AuditedResource, { stop(): Promise<void> | void }>();
  private lastRulesVersion: readonly unknown[] = [];
  private fullRunPending = false;
  private running: Promise<void> | undefined;
  private writeScheduled = false;
  private reportsState: 'writing' | 'crd-absent' | 'standby' = 'standby';
  private written = new Map<string, string>();
  private reportsWritten = 0;
  private lastRun: { at: Date; durationMs: number } | undefined;
  private k8s: typeof import('@kubernetes/client-node') | undefined;
  private crdAbsentLogged = false;
  private readonly absentResources = new Set<AuditedResource>();
  private afterJudgingScheduled = false;
  private findingsSummary: Pick<AuditSummary, 'violations' | 'warnings' | 'namespaces'> | undefined;

  constructor(private readonly options: BackgroundAuditOptions) {
    this.log = options.logger.child({ component: 'audit' });
    this.metrics = new AuditMetrics(options.registry);
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
    this.lastRulesVersion = this.options.rulesVersion();
    this.every(1000, () => {
      const version = this.options.rulesVersion();
      if (version.length !== this.lastRulesVersion.length || version.some((v, i) => v !== this.lastRulesVersion[i])) {
        this.lastRulesVersion = version;
        this.requestFullRun('schemas or policies changed');
      }
    });
    if (this.options.intervalMs > 0) this.every(this.options.intervalMs, () => this.requestFullRun('interval'));
  }

  /** Stops following and writing; the Lease is released (unless told not to, as a crash would). */
  async stop(options: { releaseLease?: boolean } = {}): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.all([...this.informers.values()].map((i) => Promise.resolve(i.stop()).catch(() => undefined)));
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
    for (const a of this.audited()) {
      if (a.result.outcome === 'invalid') violations++;
      warnings += a.result.warnings.length;
    }
    return { violations, warnings, namespaces };
  }

  /** Resolves when no judging or report writing is pending (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.running || this.fullRunPending) await (this.running ?? yieldLoop());
  }

  private *audited(): Iterable<AuditedObject> {
    for (const s of this.store.values()) if (s.audited) yield s.audited;
  }

  // ---- following the stored objects ----

  private follow(resource: AuditedResource): void {
    const k8s = this.k8s!;
    const kc = this.options.kubeConfig;
    const path = `/apis/${resource.group}/${resource.version}/${resource.plural}`;
    let attempt = 0;
    const absent = this.absentResources;
    const run = (): void => {
      if (this.stopped) return;
      let live = true;
      const list = async () => {
        const listed = (await this.custom.listClusterCustomObject({ group: resource.group, version: resource.version, plural: resource.plural })) as {
          items?: Record<string, unknown>[];
          metadata?: { resourceVersion?: string };
        };
        if (live) this.replaceAll(resource, listed.items ?? []);
        return { ...listed, items: listed.items ?? [] } as never;
      };
      const informer = k8s.makeInformer<never>(kc, path, list);
      const upsert = (o: Record<string, unknown>): void => {
        if (live) this.upsert(resource, o, true);
      };
      informer.on('add', upsert as never);
      informer.on('update', upsert as never);
      informer.on('delete', ((o: Record<string, unknown>) => {
        if (live) this.remove(resource, o);
      }) as never);
      const restart = (reason: string, delay: number): void => {
        if (!live) return;
        live = false;
        void Promise.resolve(informer.stop()).catch(() => undefined);
        this.after(delay, run);
        if (reason !== 'relist') this.log.warn({ resource: `${resource.plural}.${resource.group}`, err: reason, retryInMs: delay }, 'audit watch failed; judged state kept');
      };
      const failed = (err: unknown): void => {
        if (statusOf(err) === 404) {
          // No CRD (Gateway API not installed, say): nothing stored, nothing wrong. Said once; looked for again later.
          if (!absent.has(resource)) this.log.info({ resource: `${resource.plural}.${resource.group}` }, 'audit: kind not served by this cluster; looking again every minute');
          absent.add(resource);
          restart('relist', 60_000);
          return;
        }
        restart(firstLine(err), Math.min(30_000, 500 * 2 ** Math.min(attempt++, 6)));
      };
      informer.on('error', failed);
      informer.start().then(() => {
        attempt = 0;
        absent.delete(resource);
      }, failed);
      this.informers.set(resource, informer);
      this.after(this.options.relistIntervalMs ?? 5 * 60_000, () => restart('relist', 0));
    };
    run();
  }

  private replaceAll(resource: AuditedResource, items: Record<string, unknown>[]): void {
    const seen = new Set<string>();
    for (const item of items) seen.add(this.upsert(resource, item, false));
    for (const [key, stored] of this.store) if (stored.resource === resource && !seen.has(key)) this.store.delete(key);
    this.metrics.objects.set(this.store.size);
    this.requestFullRun('list');
  }

  /** Keeps what the judges read (no managedFields, no status): the cache stays small. */
  private upsert(resource: AuditedResource, item: Record<string, unknown>, judgeNow: boolean): string {
    const meta = (item.metadata ?? {}) as Record<string, unknown>;
    const ns = String(meta.namespace ?? '');
    const name = String(meta.name ?? '');
    const key = keyOf(resource, ns, name);
    const object = {
      apiVersion: typeof item.apiVersion === 'string' ? item.apiVersion : `${resource.group}/${resource.version}`,
      kind: typeof item.kind === 'string' ? item.kind : resource.kind,
      metadata: { name, namespace: ns, ...(meta.uid ? { uid: meta.uid } : {}), ...(meta.labels ? { labels: meta.labels } : {}), ...(meta.annotations ? { annotations: meta.annotations } : {}) },
      spec: item.spec,
    };
    const resourceVersion = typeof meta.resourceVersion === 'string' ? meta.resourceVersion : undefined;
    const previous = this.store.get(key);
    // The informer replays what the list already delivered: an unchanged object keeps its verdict.
    if (previous?.audited && resourceVersion !== undefined && previous.resourceVersion === resourceVersion) return key;
    const stored: Stored = { object, resource, ...(resourceVersion ? { resourceVersion } : {}) };
    this.store.set(key, stored);
    if (judgeNow) {
      this.judge(stored);
      this.metrics.objects.set(this.store.size);
      this.scheduleAfterJudging();
    }
    return key;
  }

  private remove(resource: AuditedResource, item: Record<string, unknown>): void {
    const meta = (item.metadata ?? {}) as Record<string, unknown>;
    this.store.delete(keyOf(resource, String(meta.namespace ?? ''), String(meta.name ?? '')));
    this.metrics.objects.set(this.store.size);
    this.scheduleAfterJudging();
  }

  // ---- judging ----

  private judge(stored: Stored, handler: HandlerContext = this.options.handler()): void {
    const meta = stored.object.metadata as { name: string; namespace: string; uid?: string };
    const result = judgeDocument({ file: 'cluster', document: 0, line: 1, object: stored.object, lineOf: () => 1 }, { handler, configMapReviewers: [], strict: false, showDefaults: false });
    stored.audited = { apiVersion: stored.object.apiVersion as string, kind: stored.object.kind as string, namespace: meta.namespace, name: meta.name, ...(meta.uid ? { uid: meta.uid } : {}), result };
  }

  private requestFullRun(reason: string): void {
    if (this.stopped) return;
    if (this.fullRunPending) return;
    this.fullRunPending = true;
    this.after(this.options.debounceMs ?? 2000, () => {
      const previous = this.running ?? Promise.resolve();
      this.running = previous.then(() => this.fullRun(reason)).finally(() => {
        this.running = undefined;
      });
    });
  }

  private async fullRun(reason: string): Promise<void> {
    this.fullRunPending = false;
    if (this.stopped) return;
    const started = performance.now();
    try {
      // One snapshot of the rules for the whole run: every object judged by the same rules.
      const handler = this.options.handler();
      // Slices bounded by time as well as count: admissions wait at most one slice for the loop.
      const slice = this.options.sliceSize ?? 50;
      const sliceMs = this.options.sliceMs ?? 1;
      let n = 0;
      let sliceStart = performance.now();
      for (const stored of [...this.store.values()]) {
        this.judge(stored, handler);
        if (++n % slice === 0 || performance.now() - sliceStart >= sliceMs) {
          n = 0;
          await yieldLoop();
          if (this.stopped) return;
          sliceStart = performance.now();
        }
      }
      const durationMs = performance.now() - started;
      this.lastRun = { at: new Date(), durationMs };
      this.metrics.runs.inc({ result: 'success' });
      this.metrics.duration.observe(durationMs / 1000);
      this.metrics.lastRun.set(Date.now() / 1000);
      this.log.info({ reason, objects: this.store.size, durationMs: Math.round(durationMs) }, 'audit run finished');
      this.afterJudging();
    } catch (error) {
      this.metrics.runs.inc({ result: 'error' });
      this.log.error({ err: firstLine(error) }, 'audit run failed');
    }
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
    for (const a of this.audited()) {
      if (a.result.outcome !== 'invalid') continue;
      const byKind = counts.get(a.namespace) ?? new Map<string, number>();
      byKind.set(a.kind, (byKind.get(a.kind) ?? 0) + 1);
      counts.set(a.namespace, byKind);
    }
    this.metrics.setViolations(counts);
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

