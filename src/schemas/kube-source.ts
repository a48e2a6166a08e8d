/**
 * Labelled ConfigMaps from the cluster: one client-node informer per trusted namespace (or one
 * cluster-wide informer, to see and count labelled ConfigMaps outside them).
 *
 * client-node 1.4's informer re-lists by itself after a 410 Gone and re-watches after a clean close,
 * but stops for good after any other error. This source restarts it with capped, jittered
 * exponential backoff, each restart a fresh informer (so a full re-list); differences against what
 * was delivered before become add/update/delete events, and until then consumers keep what they have.
 *
 * client-node is imported lazily: loading it costs over a second, and the file source never needs it.
 */
import { readFile } from 'node:fs/promises';
import { clusterKubeConfig } from '../kube/kubeconfig.js';
import type { CoreV1Api, Informer, KubeConfig, KubernetesListObject, ObjectCache, V1ConfigMap } from '@kubernetes/client-node';
import type { ConfigMapObject, ConfigMapSource, ConfigMapSourceEvent, ConfigMapSourceHandler, SourceError } from './source.js';

export const SERVICE_ACCOUNT_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

export interface BackoffOptions {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly factor: number;
  /** Fraction of the delay removed at random (0..1), so many replicas do not retry in lockstep. */
  readonly jitter: number;
  /** An informer that ran this long before failing starts again from initialMs. */
  readonly resetAfterMs: number;
}

export const DEFAULT_RESYNC_INTERVAL_MS = 5 * 60 * 1000;

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 30_000, factor: 2, jitter: 0.2, resetAfterMs: 60_000 };

/** Delay before restart number `attempt` (0-based). */
export function backoffDelay(attempt: number, options: BackoffOptions = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const capped = Math.min(options.maxMs, options.initialMs * options.factor ** Math.min(attempt, 64));
  return Math.round(capped * (1 - options.jitter * random()));
}

export class KubeSourceError extends Error {
  constructor(
    readonly code: 'NoNamespace' | 'KubeConfigFailed',
    message: string,
  ) {
    super(message);
  }
}

/** The namespaces to trust: the ones given, else the pod's own (from the service-account mount). */
export async function resolveTrustedNamespaces(given: readonly string[] | undefined, namespaceFile = SERVICE_ACCOUNT_NAMESPACE_FILE): Promise<string[]> {
  const explicit = (given ?? []).map((n) => n.trim()).filter(Boolean);
  if (explicit.length > 0) return [...new Set(explicit)];
  let ns: string;
  try {
    ns = (await readFile(namespaceFile, 'utf8')).trim();
  } catch (err) {
    throw new KubeSourceError('NoNamespace', `no trusted namespace given and the pod namespace is unreadable (${namespaceFile}): ${(err as Error).message}`);
  }
  if (!ns) throw new KubeSourceError('NoNamespace', `no trusted namespace given and ${namespaceFile} is empty`);
  return [ns];
}

export interface KubeConfigMapSourceOptions {
  /** e.g. `ainetworking.prototype.x-k8s.io/extension-schema=true`. */
  readonly labelSelector: string;
  /** Trusted namespaces; default: the pod's namespace. */
  readonly trustedNamespaces?: readonly string[];
  /**
   * 'trusted' (default): one informer per trusted namespace (namespaced RBAC suffices).
   * 'cluster': one informer on all namespaces; ConfigMaps outside the trusted ones are delivered
   * as untrusted, so they can be counted and ignored (needs cluster-wide list/watch).
   */
  readonly watchScope?: 'trusted' | 'cluster';
  /** Path of a kubeconfig file; default in-cluster configuration. */
  readonly kubeconfigPath?: string;
  /** A ready KubeConfig (tests, embedding); wins over kubeconfigPath. */
  readonly kubeConfig?: KubeConfig;
  readonly backoff?: Partial<BackoffOptions>;
  /**
   * Restart each informer (a fresh list, then a new watch) this often, even when all looks well:
   * a watch connection that died silently (no FIN, e.g. a forgotten NAT entry) delivers nothing and
   * raises no error, so only a periodic re-list bounds how stale the cache can get. Default 5 minutes;
   * 0 disables.
   */
  readonly resyncIntervalMs?: number;
  readonly namespaceFile?: string;
  readonly random?: () => number;
  readonly id?: string;
}

type ConfigMapInformer = Informer<V1ConfigMap> & ObjectCache<V1ConfigMap>;

const timestampString = (t: unknown): string | undefined => (t instanceof Date ? t.toISOString().replace(/\.000Z$/, 'Z') : typeof t === 'string' ? t : undefined);

/** Typed-client lists carry Date objects; watch events carry plain JSON. One shape for consumers. */
export function toConfigMapObject(cm: V1ConfigMap): ConfigMapObject {
  const m = cm.metadata ?? {};
  const created = timestampString(m.creationTimestamp);
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: m.name ?? '',
      ...(m.namespace === undefined ? {} : { namespace: m.namespace }),
      ...(m.uid === undefined ? {} : { uid: m.uid }),
      ...(m.resourceVersion === undefined ? {} : { resourceVersion: m.resourceVersion }),
      ...(created === undefined ? {} : { creationTimestamp: created }),
      ...(m.labels === undefined ? {} : { labels: { ...m.labels } }),
    },
    data: { ...(cm.data ?? {}) },
  };
}

const keyOf = (cm: ConfigMapObject): string => `${cm.metadata.namespace ?? ''}/${cm.metadata.name}`;

/** One informer's worth of state: a namespace, or the whole cluster. */
class Scope {
  readonly known = new Map<string, ConfigMapObject>();
  synced = false;
  generation = 0;
  attempt = 0;
  startedAt = 0;
  informer: ConfigMapInformer | undefined;
  retryTimer: NodeJS.Timeout | undefined;
  resyncTimer: NodeJS.Timeout | undefined;
  constructor(readonly namespace: string | undefined) {}
}

export class KubeConfigMapSource implements ConfigMapSource {
  readonly id: string;
  private readonly backoff: BackoffOptions;
  private readonly random: () => number;
  private handler: ConfigMapSourceHandler | undefined;
  private scopes: Scope[] = [];
  private trusted = new Set<string>();
  private stopped = false;
  private syncedAnnounced = false;
  private syncWaiters: Array<() => void> = [];
  private client: { k8s: typeof import('@kubernetes/client-node'); kc: KubeConfig; api: CoreV1Api } | undefined;

  constructor(private readonly options: KubeConfigMapSourceOptions) {
    this.id = options.id ?? 'kubernetes';
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.random = options.random ?? Math.random;
  }

  /** Resolves the namespaces and kubeconfig, then starts the informers without waiting for the first list. */
  async start(handler: ConfigMapSourceHandler): Promise<void> {
    this.handler = handler;
    const namespaces = await resolveTrustedNamespaces(this.options.trustedNamespaces, this.options.namespaceFile);
    this.trusted = new Set(namespaces);
    const k8s = await import('@kubernetes/client-node');
    let kc: KubeConfig;
    try {
      kc = clusterKubeConfig(k8s, this.options);
    } catch (err) {
      throw new KubeSourceError('KubeConfigFailed', `cannot load the Kubernetes client configuration: ${(err as Error).message}`);
    }
    this.client = { k8s, kc, api: kc.makeApiClient(k8s.CoreV1Api) };
    this.scopes = this.options.watchScope === 'cluster' ? [new Scope(undefined)] : namespaces.map((ns) => new Scope(ns));
    for (const scope of this.scopes) this.run(scope);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.all(this.scopes.map((s) => this.halt(s)));
    for (const resolve of this.syncWaiters.splice(0)) resolve();
  }

  /** False until start() has resolved the namespaces. */
  isTrustedNamespace(namespace: string): boolean {
    return this.trusted.has(namespace);
  }

  /** The resolved trusted namespaces (empty before start()). */
  get trustedNamespaces(): string[] {
    return [...this.trusted];
  }

  hasSynced(): boolean {
    return this.scopes.length > 0 && this.scopes.every((s) => s.synced);
  }

  /** Resolves once every scope has delivered its first full list (or the source stopped). */
  whenSynced(): Promise<void> {
    if (this.hasSynced() || this.stopped) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  private async halt(scope: Scope): Promise<void> {
    scope.generation++;
    if (scope.retryTimer) clearTimeout(scope.retryTimer);
    scope.retryTimer = undefined;
    if (scope.resyncTimer) clearTimeout(scope.resyncTimer);
    scope.resyncTimer = undefined;
    const informer = scope.informer;
    scope.informer = undefined;
    if (informer) await informer.stop().catch(() => undefined);
  }

  /** Starts a fresh informer for the scope: a full list, then a watch. */
  private run(scope: Scope): void {
    const { k8s, kc, api } = this.client!;
    const generation = ++scope.generation;
    const live = () => !this.stopped && generation === scope.generation;
    const ns = scope.namespace;
    const path = ns === undefined ? '/api/v1/configmaps' : `/api/v1/namespaces/${encodeURIComponent(ns)}/configmaps`;
    const labelSelector = this.options.labelSelector;

    const list = async (): Promise<KubernetesListObject<V1ConfigMap>> => {
      const result = ns === undefined ? await api.listConfigMapForAllNamespaces({ labelSelector }) : await api.listNamespacedConfigMap({ namespace: ns, labelSelector });
      // Reconcile here rather than through the informer's callbacks: objects that vanished while we
      // were away must be deleted even though this informer never saw them.
      if (live()) this.reconcile(scope, result.items.map(toConfigMapObject));
      return result;
    };

    const informer = k8s.makeInformer<V1ConfigMap>(kc, path, list, labelSelector);
    const apply = (type: 'added' | 'updated' | 'deleted') => (obj: V1ConfigMap) => {
      if (live()) this.apply(scope, type, toConfigMapObject(obj));
    };
    informer.on('add', apply('added'));
    informer.on('update', apply('updated'));
    informer.on('delete', apply('deleted'));
    informer.on('error', (err: unknown) => {
      if (live()) this.failed(scope, err);
    });
    scope.informer = informer;
    scope.startedAt = Date.now();
    const resyncMs = this.options.resyncIntervalMs ?? DEFAULT_RESYNC_INTERVAL_MS;
    if (resyncMs > 0) {
      scope.resyncTimer = setTimeout(() => {
        if (!live()) return;
        void this.halt(scope).then(() => {
          if (!this.stopped) this.run(scope);
        });
      }, resyncMs);
      scope.resyncTimer.unref?.();
    }
    informer.start().catch((err: unknown) => {
      if (live()) this.failed(scope, err);
    });
  }

  private failed(scope: Scope, err: unknown): void {
    if (Date.now() - scope.startedAt >= this.backoff.resetAfterMs) scope.attempt = 0;
    const delay = backoffDelay(scope.attempt++, this.backoff, this.random);
    const e = err as { statusCode?: number; code?: unknown; message?: string };
    const status = e?.statusCode ?? (typeof e?.code === 'number' ? e.code : undefined);
    const error: SourceError = {
      code: status === 410 ? 'Gone' : scope.synced ? 'WatchFailed' : 'ListFailed',
      message: `${status ? `HTTP ${status}: ` : ''}${e?.message ?? String(err)}`,
    };
    this.emit({ type: 'error', error, ...(scope.namespace === undefined ? {} : { namespace: scope.namespace }), retryInMs: delay });
    void this.halt(scope).then(() => {
      if (this.stopped) return;
      scope.retryTimer = setTimeout(() => {
        scope.retryTimer = undefined;
        if (!this.stopped) this.run(scope);
      }, delay);
      scope.retryTimer.unref?.();
    });
  }

  private reconcile(scope: Scope, items: ConfigMapObject[]): void {
    const listed = new Map(items.map((cm) => [keyOf(cm), cm]));
    for (const [key, cm] of scope.known) if (!listed.has(key)) this.apply(scope, 'deleted', cm);
    for (const cm of items) this.apply(scope, 'added', cm);
    if (!scope.synced) {
      scope.synced = true;
      if (this.hasSynced() && !this.syncedAnnounced) {
        this.syncedAnnounced = true;
        this.emit({ type: 'synced' });
        for (const resolve of this.syncWaiters.splice(0)) resolve();
      }
    } else {
      this.emit({ type: 'relisted', ...(scope.namespace === undefined ? {} : { namespace: scope.namespace }) });
    }
  }

  /** Deduplicates against what was already delivered: the informer repeats a re-list's objects. */
  private apply(scope: Scope, type: 'added' | 'updated' | 'deleted', cm: ConfigMapObject): void {
    const key = keyOf(cm);
    const previous = scope.known.get(key);
    const origin = { kind: 'configmap' as const, trusted: cm.metadata.namespace !== undefined && this.trusted.has(cm.metadata.namespace) };
    if (type === 'deleted') {
      if (!previous) return;
      scope.known.delete(key);
      this.emit({ type: 'deleted', key, configMap: cm, origin });
      return;
    }
    if (previous && previous.metadata.resourceVersion === cm.metadata.resourceVersion) return;
    scope.known.set(key, cm);
    this.emit({ type: previous ? 'updated' : 'added', key, configMap: cm, origin });
  }

  private emit(event: ConfigMapSourceEvent): void {
    if (!this.stopped) this.handler?.(event);
  }
}
