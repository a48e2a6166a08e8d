/**
 * The platform-policy registry: policy ConfigMap events in, an immutable PolicySet out. The same
 * rules as the extension-schema registry, through the same source plumbing:
 * - each ConfigMap version is parsed once; a version already seen is a no-op;
 * - a version that fails to parse or check never replaces that ConfigMap's last good policy (the
 *   failure is kept for GET /policies, logged and counted);
 * - ConfigMaps from untrusted namespaces are ignored and counted;
 * - one `namespace/name` seen from two sources (a file and the cluster): the older serves, the other
 *   is reported as a duplicate.
 * Every change builds a new PolicySet (copy-on-write): a snapshot taken by a request never changes.
 */
import type { Logger } from 'pino';
import { formatFieldError } from '../backend/field-errors.js';
import type { Metrics } from '../observability/metrics.js';
import { claimKeyOf, configMapVersion, SourceSet, UntrustedSeen } from '../schemas/source-set.js';
import { type ConfigMapObject, type ConfigMapOrigin, type ConfigMapSource, type ConfigMapSourceEvent, configMapRef } from '../schemas/source.js';
import { readPolicyConfigMap } from './format.js';
import { type CompiledPolicy, compilePolicy, EMPTY_POLICY_SET, matchPatterns, type PolicyConflict, PolicySet } from './policy-set.js';

export const POLICY_REGISTRY_NAME = 'backend-policies';

export interface PolicyRegistryOptions {
  readonly logger: Logger;
  readonly metrics?: Metrics;
}

interface Entry {
  readonly claimKey: string;
  readonly sourceId: string;
  readonly ref: string;
  readonly origin: ConfigMapOrigin;
  seenVersion: string;
  creationTimestamp?: string;
  /** The last version that parsed; serves while newer versions fail. */
  good?: CompiledPolicy;
  /** Error of the newest version, when it failed. */
  error?: string;
}

/** One row of GET /policies. */
export interface PolicyListing {
  ref: string;
  source: { kind: 'configmap' | 'file'; namespace?: string; name: string; path?: string };
  resourceVersion?: string;
  description?: string;
  /** A good version is in force. */
  loaded: boolean;
  /** The newest version's problem, when it failed (the last good one may still serve). */
  error?: string;
  /** Served by another ConfigMap of the same namespace/name. */
  duplicateOf?: string;
  match?: { patterns: string[]; namespaceSelector?: unknown };
  overrides?: string[];
  defaults?: string[];
}

export interface PolicyReport {
  policies: PolicyListing[];
  conflicts: PolicyConflict[];
}

const timestampRank = (t: string | undefined): number => {
  const ms = t === undefined ? Number.NaN : Date.parse(t);
  return Number.isNaN(ms) ? Number.POSITIVE_INFINITY : ms;
};

const olderFirst = (a: Entry, b: Entry): number =>
  timestampRank(a.creationTimestamp) - timestampRank(b.creationTimestamp) || (a.claimKey < b.claimKey ? -1 : a.claimKey > b.claimKey ? 1 : 0);

export class PolicyRegistry {
  private readonly log: Logger;
  private readonly metrics: Metrics | undefined;
  private readonly sources = new SourceSet((sourceId, event) => this.handle(sourceId, event));
  private readonly entries = new Map<string, Entry>();
  private readonly ignored = new UntrustedSeen();
  /** Claim keys already reported as duplicates. */
  private readonly duplicates = new Set<string>();
  private current: PolicySet = EMPTY_POLICY_SET;

  constructor(options: PolicyRegistryOptions) {
    this.log = options.logger.child({ registry: POLICY_REGISTRY_NAME });
    this.metrics = options.metrics;
  }

  async start(sources: readonly ConfigMapSource[]): Promise<void> {
    await this.sources.start(sources);
  }

  async stop(): Promise<void> {
    await this.sources.stop();
  }

  isReady(): boolean {
    return this.sources.isReady();
  }

  isTrustedNamespace(namespace: string): boolean {
    return this.sources.isTrustedNamespace(namespace);
  }

  /** The policies in force, for one admission request. */
  snapshot(): PolicySet {
    return this.current;
  }

  /** What GET /policies shows: every policy ConfigMap seen (loaded or not) and the conflicts. */
  report(): PolicyReport {
    const serving = new Map(this.current.policies.map((p) => [p.ref, p]));
    const rows: PolicyListing[] = [...this.entries.values()].map((e) => {
      const served = e.good;
      const row: PolicyListing = {
        ref: e.ref,
        source: {
          kind: e.origin.kind,
          name: served?.origin.name ?? e.ref.split('/').pop()!,
          ...(served?.origin.namespace === undefined ? {} : { namespace: served.origin.namespace }),
          ...(e.origin.path === undefined ? {} : { path: e.origin.path }),
        },
        loaded: served !== undefined,
      };
      if (served?.origin.resourceVersion !== undefined) row.resourceVersion = served.origin.resourceVersion;
      if (served?.document.description !== undefined) row.description = served.document.description;
      if (e.error !== undefined) row.error = e.error;
      if (served && serving.get(e.ref) !== served) row.duplicateOf = e.ref;
      if (served) {
        const selector = served.document.match?.namespaceSelector;
        row.match = { patterns: matchPatterns(served), ...(selector ? { namespaceSelector: selector } : {}) };
        row.overrides = Object.keys(served.document.overrides ?? {});
        row.defaults = Object.keys(served.document.defaults ?? {});
      }
      return row;
    });
    rows.sort((a, b) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0));
    return { policies: rows, conflicts: [...this.current.conflicts] };
  }

  /** Applies one source event. Public so custom sources and tests can feed the registry directly. */
  handle(sourceId: string, event: ConfigMapSourceEvent): void {
    switch (event.type) {
      case 'added':
      case 'updated':
        this.upsert(sourceId, event.key, event.configMap, event.origin);
        return;
      case 'deleted':
        this.remove(sourceId, event.key, event.configMap);
        return;
      case 'synced':
        this.log.info({ source: sourceId, policies: this.current.size }, 'policy source synced');
        return;
      case 'relisted':
        this.count('relisted');
        this.log.info({ source: sourceId, namespace: event.namespace }, 'policy source relisted');
        return;
      case 'error':
        this.count('watch_error');
        this.log.warn(
          { source: sourceId, namespace: event.namespace, code: event.error.code, err: event.error.message, retryInMs: event.retryInMs },
          'policy source failed; cached policies stay in force',
        );
        return;
    }
  }

  private upsert(sourceId: string, key: string, cm: ConfigMapObject, origin: ConfigMapOrigin): void {
    const claimKey = claimKeyOf(sourceId, key);
    const version = configMapVersion(cm);
    const ref = configMapRef(cm);
    if (!origin.trusted) {
      if (!this.ignored.firstSighting(claimKey, version)) return;
      this.count('ignored_untrusted');
      this.log.warn({ source: sourceId, configMap: ref }, 'policy ConfigMap outside the trusted namespaces ignored');
      return;
    }
    const existing = this.entries.get(claimKey);
    if (existing && existing.seenVersion === version) return;
    const entry: Entry = existing ?? { claimKey, sourceId, ref, origin, seenVersion: version };
    entry.seenVersion = version;
    if (cm.metadata.creationTimestamp !== undefined) entry.creationTimestamp = cm.metadata.creationTimestamp;
    this.entries.set(claimKey, entry);

    const read = readPolicyConfigMap(cm);
    if (!read.ok) {
      const message = read.errors.map(formatFieldError).join('; ');
      entry.error = cm.metadata.resourceVersion ? `resourceVersion ${cm.metadata.resourceVersion}: ${message}` : message;
      this.count('rejected');
      this.log.warn(
        { source: sourceId, configMap: ref, resourceVersion: cm.metadata.resourceVersion, err: message, stillServing: entry.good ? (entry.good.origin.resourceVersion ?? 'previous version') : null },
        entry.good ? 'policy update rejected; the last good version stays in force' : 'policy rejected',
      );
      return;
    }
    const previous = entry.good;
    const { metadata } = cm;
    entry.good = compilePolicy(read.document, {
      kind: origin.kind,
      name: metadata.name,
      ...(metadata.namespace === undefined ? {} : { namespace: metadata.namespace }),
      ...(metadata.resourceVersion === undefined ? {} : { resourceVersion: metadata.resourceVersion }),
      ...(metadata.creationTimestamp === undefined ? {} : { creationTimestamp: metadata.creationTimestamp }),
      ...(origin.path === undefined ? {} : { path: origin.path }),
    });
    delete entry.error;
    this.count(previous ? 'replaced' : 'loaded');
    this.log.info({ source: sourceId, configMap: ref, resourceVersion: metadata.resourceVersion }, previous ? 'policy replaced' : 'policy loaded');
    this.rebuild();
  }

  private remove(sourceId: string, key: string, cm: ConfigMapObject): void {
    const claimKey = claimKeyOf(sourceId, key);
    this.ignored.forget(claimKey);
    const entry = this.entries.get(claimKey);
    if (!entry) return;
    this.entries.delete(claimKey);
    this.duplicates.delete(claimKey);
    this.count('deleted');
    this.log.info({ source: sourceId, configMap: configMapRef(cm) }, 'policy deleted');
    if (entry.good) this.rebuild();
  }

  /** One policy per namespace/name (the oldest), into a fresh PolicySet. */
  private rebuild(): void {
    const byRef = new Map<string, Entry[]>();
    for (const e of this.entries.values()) {
      if (!e.good) continue;
      const list = byRef.get(e.ref) ?? [];
      list.push(e);
      byRef.set(e.ref, list);
    }
    const policies: CompiledPolicy[] = [];
    for (const [ref, list] of byRef) {
      const [winner, ...others] = list.sort(olderFirst);
      policies.push(winner!.good!);
      for (const other of others) {
        if (this.duplicates.has(other.claimKey)) continue;
        this.duplicates.add(other.claimKey);
        this.count('duplicate');
        this.log.warn({ configMap: ref, source: other.sourceId, servedFrom: winner!.sourceId }, 'policy seen twice under one name; the older one serves');
      }
      this.duplicates.delete(winner!.claimKey);
    }
    this.current = new PolicySet(policies);
    for (const c of this.current.conflicts) {
      this.log.debug({ key: c.key, policies: c.policies, winner: c.winner }, 'policies conflict; name order decides');
    }
  }

  private count(event: string): void {
    this.metrics?.registryEvents.inc({ registry: POLICY_REGISTRY_NAME, event });
  }
}
