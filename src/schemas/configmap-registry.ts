/**
 * What every ConfigMap-fed registry (extension schemas, platform policies) does the same way, so a
 * registry only says how to load one ConfigMap and what to build from the loaded ones:
 * - each ConfigMap version is loaded once; an event with a version already seen is a no-op;
 * - a version that fails to load never replaces that ConfigMap's last good value (the failure is
 *   kept on the entry, logged and counted);
 * - ConfigMaps from untrusted namespaces are ignored, counted once per version;
 * - source events (synced, relisted, errors) are logged and counted alike;
 * - two gauges say what an operator alerts on: how long a cluster watch has been failing without a
 *   successful (re)list, and how many ConfigMaps are refused right now.
 */
import type { Logger } from 'pino';
import type { Metrics } from '../observability/metrics.js';
import type { SchemaOrigin } from './registry.js';
import { type ConfigMapObject, type ConfigMapOrigin, type ConfigMapSource, type ConfigMapSourceEvent, configMapRef } from './source.js';
import { claimKeyOf, configMapVersion, SourceSet, UntrustedSeen } from './source-set.js';

export type RegistryEventName =
  | 'loaded'
  | 'replaced'
  | 'deleted'
  | 'rejected'
  | 'ignored_untrusted'
  | 'duplicate'
  | 'watch_error'
  | 'relisted';

/** How a registry names itself and its contents in logs and metrics. */
export interface RegistryVocabulary {
  /** The `registry` metric label and log binding. */
  readonly name: string;
  /** One loaded ConfigMap's content, in log messages: 'policy', 'extension schema'. */
  readonly item: string;
  /** The same, plural: 'policies', 'schemas'. */
  readonly items: string;
  /** Log field of the 'source synced' line that carries servingCount(). */
  readonly sizeField: string;
}

export interface ConfigMapRegistryOptions {
  readonly logger: Logger;
  readonly metrics?: Metrics;
  /** Clock for the staleness gauge (ms); tests pass their own. */
  readonly now?: () => number;
}

/** Source errors of a cluster watch (list or watch refused, 410 Gone), as opposed to a broken file. */
const WATCH_ERROR_CODES: ReadonlySet<string> = new Set(['WatchFailed', 'ListFailed', 'Gone']);

const scopeKey = (sourceId: string, namespace: string | undefined): string => `${sourceId}\u0000${namespace ?? ''}`;

/** One ConfigMap seen by a registry, keyed by its source and key within the source. */
export interface RegistryEntry<G> {
  readonly claimKey: string;
  readonly sourceId: string;
  readonly ref: string;
  readonly origin: ConfigMapOrigin;
  readonly namespace?: string;
  readonly name: string;
  /** Version of the newest object seen (resourceVersion, or a content hash when there is none). */
  seenVersion: string;
  creationTimestamp?: string;
  /** The last version that loaded; serves while newer versions fail. */
  good?: G;
  /** Error of the newest version, when it failed. */
  error?: string;
}

export type LoadResult<G> = { ok: true; value: G } | { ok: false; error: string };

/** Where a loaded value came from, as schemas and policies record it. */
export function loadedOrigin(cm: ConfigMapObject, origin: ConfigMapOrigin): SchemaOrigin {
  const { metadata } = cm;
  return {
    kind: origin.kind,
    name: metadata.name,
    ...(metadata.namespace === undefined ? {} : { namespace: metadata.namespace }),
    ...(metadata.resourceVersion === undefined ? {} : { resourceVersion: metadata.resourceVersion }),
    ...(metadata.creationTimestamp === undefined ? {} : { creationTimestamp: metadata.creationTimestamp }),
    ...(origin.path === undefined ? {} : { path: origin.path }),
  };
}

const timestampRank = (t: string | undefined): number => {
  const ms = t === undefined ? Number.NaN : Date.parse(t);
  return Number.isNaN(ms) ? Number.POSITIVE_INFINITY : ms;
};

/**
 * Older first (entries without a creationTimestamp, plain files, after every timestamped one); then
 * namespace/name; then source and key, so the order is total and stable.
 */
export function olderFirst(a: RegistryEntry<unknown>, b: RegistryEntry<unknown>): number {
  const ta = timestampRank(a.creationTimestamp);
  const tb = timestampRank(b.creationTimestamp);
  if (ta !== tb) return ta < tb ? -1 : 1;
  if (a.ref !== b.ref) return a.ref < b.ref ? -1 : 1;
  return a.claimKey < b.claimKey ? -1 : a.claimKey > b.claimKey ? 1 : 0;
}

export abstract class ConfigMapRegistry<G extends { readonly origin: { readonly resourceVersion?: string } }, E extends RegistryEntry<G> = RegistryEntry<G>> {
  protected readonly log: Logger;
  protected readonly metrics: Metrics | undefined;
  protected readonly entries = new Map<string, E>();
  /** Claim keys already reported as shadowed by an older claim, so each is counted once. */
  protected readonly shadowed = new Set<string>();
  private readonly sources = new SourceSet((sourceId, event) => this.handle(sourceId, event));
  private readonly ignored = new UntrustedSeen();
  /**
   * Watched scopes (source + namespace) whose cluster watch failed with no successful (re)list since,
   * and when they first failed (ms). File sources' errors (an unreadable or broken file) are not
   * staleness: the file's last good content serves, and the next edit re-reads it.
   */
  private readonly failingScopes = new Map<string, number>();
  private rejectedCount = 0;
  private readonly now: () => number;

  protected constructor(
    private readonly vocabulary: RegistryVocabulary,
    options: ConfigMapRegistryOptions,
  ) {
    this.log = options.logger.child({ registry: vocabulary.name });
    this.metrics = options.metrics;
    this.now = options.now ?? Date.now;
    // Series exist from the start, so an alert or a dashboard sees 0 rather than nothing.
    this.metrics?.registryStaleSince.set({ registry: vocabulary.name }, 0);
    this.metrics?.registryRejectedEntries.set({ registry: vocabulary.name }, 0);
  }

  /** Parses and compiles one ConfigMap version; no side effects. */
  protected abstract load(cm: ConfigMapObject, origin: ConfigMapOrigin): LoadResult<G>;
  /** Builds the snapshot again from the entries. */
  protected abstract rebuild(): void;
  /** How many values serve, for the 'source synced' log line. */
  protected abstract servingCount(): number;
  protected abstract newEntry(entry: RegistryEntry<G>): E;

  /** Bookkeeping hooks for registries that index their entries; no-ops by default. */
  protected onRejected(_entry: E, _cm: ConfigMapObject): void {}
  protected onLoaded(_entry: E, _value: G, _previous: G | undefined): void {}
  protected onRemoved(_entry: E, _value: G): void {}
  /** Extra log fields naming an entry's value (e.g. its type). */
  protected logFields(_entry: E): Record<string, unknown> {
    return {};
  }

  /** Starts every source, feeding this registry. Resolves once all have started (not synced). */
  async start(sources: readonly ConfigMapSource[]): Promise<void> {
    await this.sources.start(sources);
  }

  /** Stops every source; what was loaded so far stays readable. */
  async stop(): Promise<void> {
    await this.sources.stop();
  }

  isReady(): boolean {
    return this.sources.isReady();
  }

  /**
   * Whether a cluster source trusts ConfigMaps in this namespace. With no cluster source (files
   * only) nothing in the cluster is read, so no namespace is singled out: true.
   */
  isTrustedNamespace(namespace: string): boolean {
    return this.sources.isTrustedNamespace(namespace);
  }

  /** Applies one source event. Public so custom sources and tests can feed the registry directly. */
  handle(sourceId: string, event: ConfigMapSourceEvent): void {
    const { item, items, sizeField } = this.vocabulary;
    switch (event.type) {
      case 'added':
      case 'updated':
        this.upsert(sourceId, event.key, event.configMap, event.origin);
        return;
      case 'deleted':
        this.remove(sourceId, event.key, event.configMap);
        return;
      case 'synced':
        // Every scope of the source has delivered a full listing.
        for (const key of [...this.failingScopes.keys()]) if (key.startsWith(scopeKey(sourceId, ''))) this.failingScopes.delete(key);
        this.reportStaleness();
        this.log.info({ source: sourceId, [sizeField]: this.servingCount() }, `${item} source synced`);
        return;
      case 'relisted':
        this.count('relisted');
        this.failingScopes.delete(scopeKey(sourceId, event.namespace));
        this.reportStaleness();
        this.log.info({ source: sourceId, namespace: event.namespace }, `${item} source relisted`);
        return;
      case 'error':
        this.count('watch_error');
        if (WATCH_ERROR_CODES.has(event.error.code)) {
          const key = scopeKey(sourceId, event.namespace);
          if (!this.failingScopes.has(key)) this.failingScopes.set(key, this.now());
          this.reportStaleness();
        }
        this.log.warn(
          { source: sourceId, namespace: event.namespace, code: event.error.code, err: event.error.message, retryInMs: event.retryInMs },
          `${item} source failed; cached ${items} stay in force`,
        );
        return;
    }
  }

  /** Counts and logs a claim newly shadowed by an older one; one already reported stays quiet. */
  protected reportShadowed(claimKey: string, fields: Record<string, unknown>, message: string): void {
    if (this.shadowed.has(claimKey)) return;
    this.shadowed.add(claimKey);
    this.count('duplicate');
    this.log.warn(fields, message);
  }

  protected count(event: RegistryEventName): void {
    this.metrics?.registryEvents.inc({ registry: this.vocabulary.name, event });
  }

  /** The oldest failure still unrecovered, in seconds since the epoch; 0 when every scope is in sync. */
  private reportStaleness(): void {
    if (!this.metrics) return;
    let oldest = 0;
    for (const since of this.failingScopes.values()) if (oldest === 0 || since < oldest) oldest = since;
    this.metrics.registryStaleSince.set({ registry: this.vocabulary.name }, oldest / 1000);
  }

  /** Keeps the rejected-entries gauge equal to the entries whose newest version failed. */
  private setRejected(entry: E, rejected: boolean): void {
    const was = entry.error !== undefined;
    if (was === rejected) return;
    this.rejectedCount += rejected ? 1 : -1;
    this.metrics?.registryRejectedEntries.set({ registry: this.vocabulary.name }, this.rejectedCount);
  }

  private upsert(sourceId: string, key: string, cm: ConfigMapObject, origin: ConfigMapOrigin): void {
    const { item } = this.vocabulary;
    const claimKey = claimKeyOf(sourceId, key);
    const version = configMapVersion(cm);
    const ref = configMapRef(cm);
    if (!origin.trusted) {
      if (!this.ignored.firstSighting(claimKey, version)) return;
      this.count('ignored_untrusted');
      this.log.warn({ source: sourceId, configMap: ref }, `${item} ConfigMap outside the trusted namespaces ignored`);
      return;
    }
    const existing = this.entries.get(claimKey);
    if (existing && existing.seenVersion === version) return;
    const entry =
      existing ??
      this.newEntry({
        claimKey,
        sourceId,
        ref,
        origin,
        name: cm.metadata.name,
        ...(cm.metadata.namespace === undefined ? {} : { namespace: cm.metadata.namespace }),
        seenVersion: version,
      });
    entry.seenVersion = version;
    if (cm.metadata.creationTimestamp !== undefined) entry.creationTimestamp = cm.metadata.creationTimestamp;
    this.entries.set(claimKey, entry);

    const resourceVersion = cm.metadata.resourceVersion;
    const loaded = this.load(cm, origin);
    if (!loaded.ok) {
      this.setRejected(entry, true);
      entry.error = resourceVersion ? `resourceVersion ${resourceVersion}: ${loaded.error}` : loaded.error;
      this.onRejected(entry, cm);
      this.count('rejected');
      this.log.warn(
        { source: sourceId, configMap: ref, resourceVersion, err: loaded.error, stillServing: entry.good ? (entry.good.origin.resourceVersion ?? 'previous version') : null },
        entry.good ? `${item} update rejected; the last good version stays in force` : `${item} rejected`,
      );
      return;
    }

    const previous = entry.good;
    entry.good = loaded.value;
    this.setRejected(entry, false);
    delete entry.error;
    this.onLoaded(entry, loaded.value, previous);
    this.count(previous ? 'replaced' : 'loaded');
    this.log.info({ source: sourceId, configMap: ref, ...this.logFields(entry), resourceVersion }, previous ? `${item} replaced` : `${item} loaded`);
    this.rebuild();
  }

  private remove(sourceId: string, key: string, cm: ConfigMapObject): void {
    const claimKey = claimKeyOf(sourceId, key);
    this.ignored.forget(claimKey);
    const entry = this.entries.get(claimKey);
    if (!entry) return;
    this.setRejected(entry, false);
    this.entries.delete(claimKey);
    this.shadowed.delete(claimKey);
    this.count('deleted');
    this.log.info({ source: sourceId, configMap: configMapRef(cm), ...this.logFields(entry) }, `${this.vocabulary.item} deleted`);
    if (entry.good) {
      this.onRemoved(entry, entry.good);
      this.rebuild();
    }
  }
}
