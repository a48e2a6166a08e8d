/**
 * The extension-schema registry: ConfigMap events in, an immutable schema snapshot out.
 *
 * Rules (backend-api.md, "Extension schemas in ConfigMaps"):
 * - each ConfigMap version is compiled once; an event with a version already seen is a no-op;
 * - a version that fails to parse or compile never replaces that ConfigMap's last good schema
 *   (the failure is recorded for list() and counted);
 * - ConfigMaps from untrusted namespaces are ignored and counted;
 * - several ConfigMaps claiming one type: the oldest (creationTimestamp, then namespace/name) among
 *   those with a usable schema serves, the others are reported as conflicts; claims without a
 *   creationTimestamp (plain files) rank after every timestamped one, so cluster ConfigMaps
 *   override the embedded defaults;
 * - deleting the serving ConfigMap hands the type to the next oldest claimant.
 * Every change builds a new map (copy-on-write): a snapshot taken by a request never changes.
 */
import type { Logger } from 'pino';
import { formatFieldError } from '../backend/field-errors.js';
import type { Metrics } from '../observability/metrics.js';
import { compileExtensionSchema, DEFAULT_COMPILE_LIMITS, type SchemaCompileLimits } from './compile.js';
import { readRegistration, schemaCompileFieldError, TYPE_KEY } from './configmap.js';
import {
  EMPTY_LOOKUP,
  type ExtensionSchema,
  MapSchemaLookup,
  type RegisteredTypeInfo,
  type SchemaLookup,
  type SchemaRegistry,
} from './registry.js';
import { type ConfigMapObject, type ConfigMapOrigin, type ConfigMapSource, type ConfigMapSourceEvent, configMapRef } from './source.js';
import { claimKeyOf, configMapVersion, SourceSet, UntrustedSeen } from './source-set.js';

export const EXTENSION_REGISTRY_NAME = 'extension-schemas';

export type RegistryEventName =
  | 'loaded'
  | 'replaced'
  | 'deleted'
  | 'rejected'
  | 'ignored_untrusted'
  | 'duplicate'
  | 'watch_error'
  | 'relisted';

export interface ExtensionSchemaRegistryOptions {
  readonly logger: Logger;
  readonly metrics?: Metrics;
  readonly limits?: SchemaCompileLimits;
}

/** One ConfigMap's claim on a type. */
interface Claim {
  readonly claimKey: string;
  readonly sourceId: string;
  readonly ref: string;
  readonly origin: ConfigMapOrigin;
  readonly namespace?: string;
  readonly name: string;
  /** Version of the newest object seen (resourceVersion, or a content hash when there is none). */
  seenVersion: string;
  creationTimestamp?: string;
  /** The last version that compiled; serves while newer versions fail. */
  good?: ExtensionSchema;
  /** Error of the newest version, when it failed. */
  error?: string;
  /** data.type of a claim that never compiled, for list(). */
  attemptedType?: string;
}

const timestampRank = (t: string | undefined): number => {
  const ms = t === undefined ? Number.NaN : Date.parse(t);
  return Number.isNaN(ms) ? Number.POSITIVE_INFINITY : ms;
};

/** Older first; then namespace/name; then source and key, so the order is total and stable. */
function olderFirst(a: Claim, b: Claim): number {
  const ta = timestampRank(a.creationTimestamp);
  const tb = timestampRank(b.creationTimestamp);
  if (ta !== tb) return ta < tb ? -1 : 1;
  if (a.ref !== b.ref) return a.ref < b.ref ? -1 : 1;
  return a.claimKey < b.claimKey ? -1 : a.claimKey > b.claimKey ? 1 : 0;
}

export class ExtensionSchemaRegistry implements SchemaRegistry {
  private readonly log: Logger;
  private readonly metrics: Metrics | undefined;
  private readonly limits: SchemaCompileLimits;
  private readonly sources = new SourceSet((sourceId, event) => this.handle(sourceId, event));
  private readonly claims = new Map<string, Claim>();
  /** Trusted claims with a usable schema, by type. */
  private readonly claimsByType = new Map<string, Set<string>>();
  /** Claim keys already reported as shadowed, so a conflict is counted once. */
  private readonly shadowed = new Set<string>();
  private readonly ignored = new UntrustedSeen();
  private current: MapSchemaLookup = EMPTY_LOOKUP as MapSchemaLookup;

  constructor(options: ExtensionSchemaRegistryOptions) {
    this.log = options.logger.child({ registry: EXTENSION_REGISTRY_NAME });
    this.metrics = options.metrics;
    this.limits = options.limits ?? DEFAULT_COMPILE_LIMITS;
    this.metrics?.registrySize.set({ source: 'configmap' }, 0);
    this.metrics?.registrySize.set({ source: 'file' }, 0);
  }

  /** Starts every source, feeding this registry. Resolves once all have started (not synced). */
  async start(sources: readonly ConfigMapSource[]): Promise<void> {
    await this.sources.start(sources);
  }

  /** Stops every source; the schemas loaded so far stay readable. */
  async stop(): Promise<void> {
    await this.sources.stop();
  }

  /**
   * Whether a cluster source trusts ConfigMaps in this namespace. With no cluster source (files
   * only) nothing in the cluster is read, so no namespace is singled out: true.
   */
  isTrustedNamespace(namespace: string): boolean {
    return this.sources.isTrustedNamespace(namespace);
  }

  snapshot(): SchemaLookup {
    return this.current;
  }

  isReady(): boolean {
    return this.sources.isReady();
  }

  list(): RegisteredTypeInfo[] {
    const rows: RegisteredTypeInfo[] = [];
    for (const [type, keys] of this.claimsByType) {
      const ordered = this.ordered(keys);
      const winner = ordered[0];
      if (!winner?.good) continue;
      const row = this.row(winner, type, true);
      const conflicts = ordered.slice(1).map((c) => this.describe(c));
      if (conflicts.length > 0) row.conflicts = conflicts;
      rows.push(row);
    }
    for (const claim of this.claims.values()) {
      if (!claim.good) rows.push(this.row(claim, claim.attemptedType ?? '', false));
    }
    return rows.sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : (a.source.name < b.source.name ? -1 : 1)));
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
        this.log.info({ source: sourceId, types: this.current.size }, 'extension schema source synced');
        return;
      case 'relisted':
        this.count('relisted');
        this.log.info({ source: sourceId, namespace: event.namespace }, 'extension schema source relisted');
        return;
      case 'error':
        this.count('watch_error');
        this.log.warn(
          { source: sourceId, namespace: event.namespace, code: event.error.code, err: event.error.message, retryInMs: event.retryInMs },
          'extension schema source failed; cached schemas stay in force',
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
      this.log.warn({ source: sourceId, configMap: ref }, 'extension schema ConfigMap outside the trusted namespaces ignored');
      return;
    }
    const existing = this.claims.get(claimKey);
    if (existing && existing.seenVersion === version) return;
    const claim: Claim = existing ?? {
      claimKey,
      sourceId,
      ref,
      origin,
      name: cm.metadata.name,
      ...(cm.metadata.namespace === undefined ? {} : { namespace: cm.metadata.namespace }),
      seenVersion: version,
    };
    claim.seenVersion = version;
    if (cm.metadata.creationTimestamp !== undefined) claim.creationTimestamp = cm.metadata.creationTimestamp;
    this.claims.set(claimKey, claim);

    const compiled = this.compile(cm, origin);
    if (!compiled.ok) {
      claim.error = cm.metadata.resourceVersion ? `resourceVersion ${cm.metadata.resourceVersion}: ${compiled.error}` : compiled.error;
      if (!claim.good) claim.attemptedType = cm.data?.[TYPE_KEY];
      this.count('rejected');
      this.log.warn(
        { source: sourceId, configMap: ref, resourceVersion: cm.metadata.resourceVersion, err: compiled.error, stillServing: claim.good?.origin.resourceVersion ?? null },
        claim.good ? 'extension schema update rejected; the last good version stays in force' : 'extension schema rejected',
      );
      return;
    }

    const previous = claim.good;
    claim.good = compiled.schema;
    delete claim.error;
    delete claim.attemptedType;
    if (previous && previous.type !== compiled.schema.type) this.unindex(previous.type, claimKey);
    this.index(compiled.schema.type, claimKey);
    this.count(previous ? 'replaced' : 'loaded');
    this.log.info(
      { source: sourceId, configMap: ref, type: compiled.schema.type, resourceVersion: cm.metadata.resourceVersion },
      previous ? 'extension schema replaced' : 'extension schema loaded',
    );
    this.rebuild();
  }

  private remove(sourceId: string, key: string, cm: ConfigMapObject): void {
    const claimKey = claimKeyOf(sourceId, key);
    this.ignored.forget(claimKey);
    const claim = this.claims.get(claimKey);
    if (!claim) return;
    this.claims.delete(claimKey);
    this.shadowed.delete(claimKey);
    this.count('deleted');
    const type = claim.good?.type;
    this.log.info({ source: sourceId, configMap: configMapRef(cm), type }, 'extension schema deleted');
    if (type !== undefined) {
      this.unindex(type, claimKey);
      this.rebuild();
    }
  }

  private compile(cm: ConfigMapObject, origin: ConfigMapOrigin): { ok: true; schema: ExtensionSchema } | { ok: false; error: string } {
    const read = readRegistration(cm);
    if (!read.ok) return { ok: false, error: read.errors.map(formatFieldError).join('; ') };
    const result = compileExtensionSchema(read.registration.schemaText, this.limits);
    if (!result.ok) return { ok: false, error: formatFieldError(schemaCompileFieldError(result.error)) };
    const { metadata } = cm;
    const schema: ExtensionSchema = {
      type: read.registration.type,
      ...(read.registration.description === undefined ? {} : { description: read.registration.description }),
      origin: {
        kind: origin.kind,
        name: metadata.name,
        ...(metadata.namespace === undefined ? {} : { namespace: metadata.namespace }),
        ...(metadata.resourceVersion === undefined ? {} : { resourceVersion: metadata.resourceVersion }),
        ...(metadata.creationTimestamp === undefined ? {} : { creationTimestamp: metadata.creationTimestamp }),
        ...(origin.path === undefined ? {} : { path: origin.path }),
      },
      validate: result.validate,
    };
    return { ok: true, schema };
  }

  private index(type: string, claimKey: string): void {
    let keys = this.claimsByType.get(type);
    if (!keys) this.claimsByType.set(type, (keys = new Set()));
    keys.add(claimKey);
  }

  private unindex(type: string, claimKey: string): void {
    const keys = this.claimsByType.get(type);
    if (!keys) return;
    keys.delete(claimKey);
    this.shadowed.delete(claimKey);
    if (keys.size === 0) this.claimsByType.delete(type);
  }

  private ordered(keys: Iterable<string>): Claim[] {
    const claims: Claim[] = [];
    for (const k of keys) {
      const c = this.claims.get(k);
      if (c?.good) claims.push(c);
    }
    return claims.sort(olderFirst);
  }

  /** Recomputes the winner of every type into a fresh map, reporting newly shadowed claimants. */
  private rebuild(): void {
    const byType = new Map<string, ExtensionSchema>();
    const counts = { configmap: 0, file: 0 };
    for (const [type, keys] of this.claimsByType) {
      const [winner, ...losers] = this.ordered(keys);
      if (!winner?.good) continue;
      byType.set(type, winner.good);
      counts[winner.origin.kind]++;
      if (this.shadowed.delete(winner.claimKey)) {
        this.log.info({ type, configMap: winner.ref, source: winner.sourceId }, 'extension schema claimant takes over the type');
      }
      for (const loser of losers) {
        if (this.shadowed.has(loser.claimKey)) continue;
        this.shadowed.add(loser.claimKey);
        this.count('duplicate');
        this.log.warn({ type, configMap: loser.ref, source: loser.sourceId, servedBy: winner.ref }, 'extension type claimed twice; the older ConfigMap wins');
      }
    }
    this.current = new MapSchemaLookup(byType);
    this.metrics?.registrySize.set({ source: 'configmap' }, counts.configmap);
    this.metrics?.registrySize.set({ source: 'file' }, counts.file);
  }

  private describe(claim: Claim): string {
    return claim.origin.path && !claim.namespace ? `${claim.name} (${claim.origin.path})` : claim.ref;
  }

  private row(claim: Claim, type: string, compiled: boolean): RegisteredTypeInfo {
    const row: RegisteredTypeInfo = {
      type,
      source: {
        kind: claim.origin.kind,
        name: claim.name,
        ...(claim.namespace === undefined ? {} : { namespace: claim.namespace }),
        ...(claim.origin.path === undefined ? {} : { path: claim.origin.path }),
      },
      compiled,
    };
    const served = claim.good;
    if (served?.origin.resourceVersion !== undefined) row.resourceVersion = served.origin.resourceVersion;
    if (served?.description !== undefined) row.description = served.description;
    if (claim.error !== undefined) row.error = claim.error;
    return row;
  }

  private count(event: RegistryEventName): void {
    this.metrics?.registryEvents.inc({ registry: EXTENSION_REGISTRY_NAME, event });
  }
}
