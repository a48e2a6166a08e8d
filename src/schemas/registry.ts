/**
 * The extension-schema registry as the admission handlers see it. Sources (files, ConfigMaps in the
 * cluster) feed a registry; handlers only ever read an immutable snapshot, so one admission is judged
 * against one consistent set of schemas even while sources change underneath.
 */

/** Validates one extension's rawConfig; returns ajv-style errors (instancePath is a JSON pointer). */
export interface ExtensionConfigValidator {
  (config: unknown): boolean;
  errors?: ExtensionConfigError[] | null;
  /**
   * The same schema, stopping at the first error (compiled on first use): for configs too large to
   * collect every error of. Absent: callers use the validator itself.
   */
  readonly firstProblem?: ExtensionConfigValidator;
}

export interface ExtensionConfigError {
  /** JSON pointer inside rawConfig, '' for the root. */
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}

/** Where a schema came from: a ConfigMap in the cluster or a file on disk. */
export interface SchemaOrigin {
  readonly kind: 'configmap' | 'file';
  readonly namespace?: string;
  readonly name: string;
  readonly resourceVersion?: string;
  /** File path for file sources. */
  readonly path?: string;
  readonly creationTimestamp?: string;
}

/** A compiled, usable schema for one extension type. */
export interface ExtensionSchema {
  readonly type: string;
  readonly description?: string;
  readonly origin: SchemaOrigin;
  readonly validate: ExtensionConfigValidator;
}

/** Read-only view used by validation: a pure function input. */
export interface SchemaLookup {
  get(type: string): ExtensionSchema | undefined;
}

/** One row of GET /extensions. */
export interface RegisteredTypeInfo {
  type: string;
  source: { kind: 'configmap' | 'file'; namespace?: string; name: string; path?: string };
  resourceVersion?: string;
  description?: string;
  compiled: boolean;
  /** The compile error of the newest version, when it failed (the last good one may still serve). */
  error?: string;
  /** Other ConfigMaps claiming the same type, ignored because this one is older. */
  conflicts?: string[];
}

export interface SchemaRegistry {
  /** A consistent view for one admission request. */
  snapshot(): SchemaLookup;
  /** What GET /extensions shows. */
  list(): RegisteredTypeInfo[];
  /** True once every source has loaded its first full listing. */
  isReady(): boolean;
}

/** A SchemaLookup over a plain map; snapshots are built from this. */
export class MapSchemaLookup implements SchemaLookup {
  constructor(private readonly byType: ReadonlyMap<string, ExtensionSchema>) {}

  get(type: string): ExtensionSchema | undefined {
    return this.byType.get(type);
  }

  get size(): number {
    return this.byType.size;
  }
}

export const EMPTY_LOOKUP: SchemaLookup = new MapSchemaLookup(new Map());
