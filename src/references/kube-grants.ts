/**
 * ReferenceGrants from the cluster, kept like the namespace labels of policies/namespaces.ts: an
 * informer (list + watch) on `referencegrants.gateway.networking.k8s.io`, restarted with backoff and
 * a fresh list when it fails, and a periodic relist against silently dead watches. The version is
 * discovered (v1, else v1beta1: the same objects either way). Without the CRD (both 404) nothing is
 * granted, the log says so once, and discovery is retried now and then, so installing Gateway API
 * later takes effect without a restart. Needs cluster-wide get/list/watch on referencegrants.
 */
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { clusterKubeConfig } from '../kube/kubeconfig.js';
import type { Logger } from 'pino';
import { backoffDelay, type BackoffOptions, DEFAULT_BACKOFF, DEFAULT_RESYNC_INTERVAL_MS } from '../schemas/kube-source.js';
import { GATEWAY_GROUP, parseReferenceGrant, REFERENCE_GRANT_VERSIONS, ReferenceGrantIndex, type ReferenceFrom, type ReferenceGrantLookup, type ReferenceTo } from './grants.js';

const PLURAL = 'referencegrants';
/** How often to look for the CRD again while it is missing. */
export const DEFAULT_CRD_RETRY_MS = 60_000;

export interface KubeReferenceGrantCacheOptions {
  readonly logger: Logger;
  readonly kubeconfigPath?: string;
  readonly kubeConfig?: KubeConfig;
  readonly backoff?: Partial<BackoffOptions>;
  /** Fresh list every so often (0: off). */
  readonly resyncIntervalMs?: number;
  /** While the CRD is missing, look for it again this often. */
  readonly crdRetryMs?: number;
}

const isNotFound = (err: unknown): boolean => (err as { code?: unknown } | null)?.code === 404 || (err as { statusCode?: unknown } | null)?.statusCode === 404;

export class KubeReferenceGrantCache implements ReferenceGrantLookup {
  private readonly index = new ReferenceGrantIndex();
  private synced = false;
  private stopped = false;
  private generation = 0;
  private attempt = 0;
  private startedAt = 0;
  /** The CRD was found missing; logged once until it appears. */
  private missingLogged = false;
  private informer: { stop(): Promise<void> | void } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private readonly backoff: BackoffOptions;
  private readonly log: Logger;

  constructor(private readonly options: KubeReferenceGrantCacheOptions) {
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.log = options.logger.child({ component: 'reference-grants' });
  }

  allows(from: ReferenceFrom, to: ReferenceTo): boolean {
    return this.index.allows(from, to);
  }

  /** Grants in force (for tests and logs). */
  get size(): number {
    return this.index.size;
  }

  /** True once grants were listed, or the CRD was found missing (nothing to wait for). */
  hasSynced(): boolean {
    return this.synced;
  }

  async start(): Promise<void> {
    const k8s = await import('@kubernetes/client-node');
    const kc = clusterKubeConfig(k8s, this.options);
    const api = kc.makeApiClient(k8s.CustomObjectsApi);
    const schedule = (delay: number, next: () => void): void => {
      if (this.timer) clearTimeout(this.timer);
      this.timer = setTimeout(() => {
        this.timer = undefined;
        if (!this.stopped) next();
      }, delay);
      this.timer.unref?.();
    };

    /** Which served version to watch; undefined: the CRD is not installed. */
    const discover = async (): Promise<string | undefined> => {
      for (const version of REFERENCE_GRANT_VERSIONS) {
        try {
          await api.listClusterCustomObject({ group: GATEWAY_GROUP, version, plural: PLURAL, limit: 1 });
          return version;
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
      }
      return undefined;
    };

    const failed = (generation: number, err: unknown): void => {
      if (this.stopped || generation !== this.generation) return;
      if (Date.now() - this.startedAt >= this.backoff.resetAfterMs) this.attempt = 0;
      const delay = backoffDelay(this.attempt++, this.backoff);
      this.log.warn({ err: (err as Error)?.message ?? String(err), retryInMs: delay }, 'ReferenceGrant watch failed; grants in force stay until the next list');
      this.generation++;
      void Promise.resolve(this.informer?.stop()).catch(() => undefined);
      schedule(delay, () => void run());
    };

    const run = async (): Promise<void> => {
      const generation = ++this.generation;
      const live = (): boolean => !this.stopped && generation === this.generation;
      let version: string | undefined;
      try {
        version = await discover();
      } catch (err) {
        return failed(generation, err);
      }
      if (!live()) return;
      if (version === undefined) {
        // Nothing can be granted: every cross-namespace reference is refused until the CRD appears.
        this.index.replaceAll([]);
        this.synced = true;
        if (!this.missingLogged) {
          this.missingLogged = true;
          this.log.warn(
            { crd: `${PLURAL}.${GATEWAY_GROUP}`, retryInMs: this.options.crdRetryMs ?? DEFAULT_CRD_RETRY_MS },
            'the ReferenceGrant CRD is not installed: nothing is granted, cross-namespace Secret and ConfigMap references are refused',
          );
        }
        return schedule(this.options.crdRetryMs ?? DEFAULT_CRD_RETRY_MS, () => void run());
      }
      if (this.missingLogged) this.log.info({ version }, 'the ReferenceGrant CRD is installed now: watching grants');
      this.missingLogged = false;

      const list = async () => {
        const result = (await api.listClusterCustomObject({ group: GATEWAY_GROUP, version, plural: PLURAL })) as { items?: unknown[]; metadata?: { resourceVersion?: string } };
        const items = Array.isArray(result?.items) ? result.items : [];
        if (live()) {
          // Replace wholesale: grants deleted while we were away go with the new list.
          this.index.replaceAll(items.flatMap((o) => parseReferenceGrant({ apiVersion: `${GATEWAY_GROUP}/${version}`, kind: 'ReferenceGrant', ...(o as object) }) ?? []));
          if (!this.synced) this.log.info({ grants: this.index.size, version }, 'ReferenceGrants synced');
          this.synced = true;
        }
        return { ...result, items: items as KubernetesObject[] } as { items: KubernetesObject[]; metadata?: { resourceVersion?: string } };
      };
      const informer = k8s.makeInformer<KubernetesObject>(kc, `/apis/${GATEWAY_GROUP}/${version}/${PLURAL}`, list as never);
      const put = (o: KubernetesObject): void => {
        if (!live()) return;
        const grant = parseReferenceGrant({ apiVersion: `${GATEWAY_GROUP}/${version}`, kind: 'ReferenceGrant', ...o });
        if (grant) this.index.put(grant);
      };
      informer.on('add', put);
      informer.on('update', put);
      informer.on('delete', (o: KubernetesObject) => {
        if (live() && o.metadata?.namespace && o.metadata.name) this.index.remove(o.metadata.namespace, o.metadata.name);
      });
      informer.on('error', (err: unknown) => failed(generation, err));
      this.informer = informer;
      this.startedAt = Date.now();
      informer.start().catch((err: unknown) => failed(generation, err));
      const resyncMs = this.options.resyncIntervalMs ?? DEFAULT_RESYNC_INTERVAL_MS;
      if (resyncMs > 0) {
        if (this.resyncTimer) clearTimeout(this.resyncTimer);
        this.resyncTimer = setTimeout(() => {
          if (!live()) return;
          this.generation++;
          void Promise.resolve(informer.stop()).catch(() => undefined);
          void run();
        }, resyncMs);
        this.resyncTimer.unref?.();
      }
    };
    void run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.generation++;
    if (this.timer) clearTimeout(this.timer);
    if (this.resyncTimer) clearTimeout(this.resyncTimer);
    await Promise.resolve(this.informer?.stop()).catch(() => undefined);
  }
}
