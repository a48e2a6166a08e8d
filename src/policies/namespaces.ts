/**
 * Namespace labels for policy namespace selectors. An AdmissionReview does not carry them, so:
 * - in the cluster, an informer on Namespaces keeps name -> labels (a small map: names and labels
 *   only), restarted with backoff and a fresh list when it fails, as the ConfigMap source does;
 * - offline, the Namespace objects found in the input.
 * Unknown is reported as unknown (undefined), never as "no labels": see evaluateNamespaceSelector.
 */
import type { KubeConfig, V1Namespace } from '@kubernetes/client-node';
import { clusterKubeConfig } from '../kube/kubeconfig.js';
import type { Logger } from 'pino';
import { isPlainObject } from '../backend/paths.js';
import { backoffDelay, type BackoffOptions, DEFAULT_BACKOFF, DEFAULT_RESYNC_INTERVAL_MS } from '../schemas/kube-source.js';
import type { NamespaceLabelLookup } from './match.js';

/** Labels from Namespace objects (offline CLI input); namespaces not given are unknown. */
export class StaticNamespaceLabels implements NamespaceLabelLookup {
  private readonly labels = new Map<string, Readonly<Record<string, string>>>();

  /** Keeps every `kind: Namespace` object among `objects` (others are ignored). */
  constructor(objects: Iterable<unknown> = []) {
    for (const o of objects) this.add(o);
  }

  add(object: unknown): boolean {
    if (!isPlainObject(object) || object['kind'] !== 'Namespace' || !isPlainObject(object['metadata'])) return false;
    const name = object['metadata']['name'];
    if (typeof name !== 'string' || name === '') return false;
    const raw = object['metadata']['labels'];
    const labels: Record<string, string> = {};
    if (isPlainObject(raw)) for (const [k, v] of Object.entries(raw)) if (typeof v === 'string') labels[k] = v;
    this.labels.set(name, labels);
    return true;
  }

  labelsOf(namespace: string): Readonly<Record<string, string>> | undefined {
    return this.labels.get(namespace);
  }
}

export interface KubeNamespaceCacheOptions {
  readonly logger: Logger;
  readonly kubeconfigPath?: string;
  readonly kubeConfig?: KubeConfig;
  readonly backoff?: Partial<BackoffOptions>;
  /** Fresh list every so often, as the ConfigMap source does, against silently dead watches (0: off). */
  readonly resyncIntervalMs?: number;
}

/** Namespace name -> labels from the cluster. Needs cluster-wide get/list/watch on namespaces. */
export class KubeNamespaceCache implements NamespaceLabelLookup {
  private labels = new Map<string, Readonly<Record<string, string>>>();
  private synced = false;
  private stopped = false;
  private generation = 0;
  private attempt = 0;
  private startedAt = 0;
  private informer: { stop(): Promise<void> | void } | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private readonly backoff: BackoffOptions;
  private readonly log: Logger;

  constructor(private readonly options: KubeNamespaceCacheOptions) {
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.log = options.logger.child({ component: 'namespace-cache' });
  }

  labelsOf(namespace: string): Readonly<Record<string, string>> | undefined {
    return this.labels.get(namespace);
  }

  /** True once the first full list of namespaces has been loaded. */
  hasSynced(): boolean {
    return this.synced;
  }

  async start(): Promise<void> {
    const k8s = await import('@kubernetes/client-node');
    const kc = clusterKubeConfig(k8s, this.options);
    const api = kc.makeApiClient(k8s.CoreV1Api);
    const run = (): void => {
      const generation = ++this.generation;
      const live = (): boolean => !this.stopped && generation === this.generation;
      const list = async () => {
        const result = await api.listNamespace();
        // Replace wholesale: namespaces deleted while we were away disappear with the new list.
        if (live()) {
          this.labels = new Map(result.items.flatMap((ns) => (ns.metadata?.name ? [[ns.metadata.name, { ...(ns.metadata.labels ?? {}) }] as const] : [])));
          if (!this.synced) this.log.info({ namespaces: this.labels.size }, 'namespace labels synced');
          this.synced = true;
        }
        return result;
      };
      const informer = k8s.makeInformer<V1Namespace>(kc, '/api/v1/namespaces', list);
      const put = (ns: V1Namespace): void => {
        if (live() && ns.metadata?.name) this.labels.set(ns.metadata.name, { ...(ns.metadata.labels ?? {}) });
      };
      informer.on('add', put);
      informer.on('update', put);
      informer.on('delete', (ns: V1Namespace) => {
        if (live() && ns.metadata?.name) this.labels.delete(ns.metadata.name);
      });
      const failed = (err: unknown): void => {
        if (!live()) return;
        if (Date.now() - this.startedAt >= this.backoff.resetAfterMs) this.attempt = 0;
        const delay = backoffDelay(this.attempt++, this.backoff);
        this.log.warn({ err: (err as Error)?.message ?? String(err), retryInMs: delay }, 'namespace watch failed; cached labels stay in force');
        this.generation++;
        void Promise.resolve(informer.stop()).catch(() => undefined);
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          if (!this.stopped) run();
        }, delay);
        this.retryTimer.unref?.();
      };
      informer.on('error', failed);
      this.informer = informer;
      this.startedAt = Date.now();
      informer.start().catch(failed);
      const resyncMs = this.options.resyncIntervalMs ?? DEFAULT_RESYNC_INTERVAL_MS;
      if (resyncMs > 0) {
        if (this.resyncTimer) clearTimeout(this.resyncTimer);
        this.resyncTimer = setTimeout(() => {
          if (!live()) return;
          this.generation++;
          void Promise.resolve(informer.stop()).catch(() => undefined);
          run();
        }, resyncMs);
        this.resyncTimer.unref?.();
      }
    };
    run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.generation++;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.resyncTimer) clearTimeout(this.resyncTimer);
    await Promise.resolve(this.informer?.stop()).catch(() => undefined);
  }
}
