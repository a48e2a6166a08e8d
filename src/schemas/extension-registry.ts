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
import { formatFieldError } from '../backend/field-errors.js';
import { compileExtensionSchema, DEFAULT_COMPILE_LIMITS, type SchemaCompileLimits } from './compile.js';
import { readRegistration, schemaCompileFieldError, TYPE_KEY } from './configmap.js';
import { ConfigMapRegistry, type ConfigMapRegistryOptions, type LoadResult, loadedOrigin, olderFirst, type RegistryEntry } from './configmap-registry.js';
import {
  EMPTY_LOOKUP,
  type ExtensionSchema,
  MapSchemaLookup,
  type RegisteredTypeInfo,
  type SchemaLookup,
  type SchemaRegistry,
} from './registry.js';
import type { ConfigMapObject, ConfigMapOrigin } from './source.js';

export type { RegistryEventName } from './configmap-registry.js';

export const EXTENSION_REGISTRY_NAME = 'extension-schemas';

export interface ExtensionSchemaRegistryOptions extends ConfigMapRegistryOptions {
  readonly limits?: SchemaCompileLimits;
}

/** One ConfigMap's claim on a type. */
interface Claim extends RegistryEntry<ExtensionSchema> {
  /** data.type of a claim that never compiled, for list(). */
  attemptedType?: string;
}

export class ExtensionSchemaRegistry extends ConfigMapRegistry<ExtensionSchema, Claim> implements SchemaRegistry {
  private readonly limits: SchemaCompileLimits;
  /** Trusted claims with a usable schema, by type. */
  private readonly claimsByType = new Map<string, Set<string>>();
  private current: MapSchemaLookup = EMPTY_LOOKUP as MapSchemaLookup;

  constructor(options: ExtensionSchemaRegistryOptions) {
    super({ name: EXTENSION_REGISTRY_NAME, item: 'extension schema', items: 'schemas', sizeField: 'types' }, options);
    this.limits = options.limits ?? DEFAULT_COMPILE_LIMITS;
    this.metrics?.registrySize.set({ source: 'configmap' }, 0);
    this.metrics?.registrySize.set({ source: 'file' }, 0);
  }

  snapshot(): SchemaLookup {
    return this.current;
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
    for (const claim of this.entries.values()) {
      if (!claim.good) rows.push(this.row(claim, claim.attemptedType ?? '', false));
    }
    return rows.sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : (a.source.name < b.source.name ? -1 : 1)));
  }

  protected newEntry(entry: Claim): Claim {
    return entry;
  }

  protected servingCount(): number {
    return this.current.size;
  }

  protected override onRejected(claim: Claim, cm: ConfigMapObject): void {
    if (!claim.good) claim.attemptedType = cm.data?.[TYPE_KEY];
  }

  protected override onLoaded(claim: Claim, schema: ExtensionSchema, previous: ExtensionSchema | undefined): void {
    delete claim.attemptedType;
    if (previous && previous.type !== schema.type) this.unindex(previous.type, claim.claimKey);
    this.index(schema.type, claim.claimKey);
  }

  protected override onRemoved(claim: Claim, schema: ExtensionSchema): void {
    this.unindex(schema.type, claim.claimKey);
  }

  protected override logFields(claim: Claim): Record<string, unknown> {
    return { type: claim.good?.type };
  }

  protected load(cm: ConfigMapObject, origin: ConfigMapOrigin): LoadResult<ExtensionSchema> {
    const read = readRegistration(cm);
    if (!read.ok) return { ok: false, error: read.errors.map(formatFieldError).join('; ') };
    const result = compileExtensionSchema(read.registration.schemaText, this.limits);
    if (!result.ok) return { ok: false, error: formatFieldError(schemaCompileFieldError(result.error)) };
    const schema: ExtensionSchema = {
      type: read.registration.type,
      ...(read.registration.description === undefined ? {} : { description: read.registration.description }),
      origin: loadedOrigin(cm, origin),
      validate: result.validate,
    };
    return { ok: true, value: schema };
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
      const c = this.entries.get(k);
      if (c?.good) claims.push(c);
    }
    return claims.sort(olderFirst);
  }

  /** Recomputes the winner of every type into a fresh map, reporting newly shadowed claimants. */
  protected rebuild(): void {
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
        this.reportShadowed(loser.claimKey, { type, configMap: loser.ref, source: loser.sourceId, servedBy: winner.ref }, 'extension type claimed twice; the older ConfigMap wins');
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
}
