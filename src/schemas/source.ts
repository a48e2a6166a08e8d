/**
 * Sources of labelled ConfigMaps (files on disk, the cluster), independent of what the ConfigMaps
 * mean: the extension-schema registry consumes them today, platform policies can consume the same
 * sources with another label selector.
 */

/** The parts of a ConfigMap the registries read. Timestamps are RFC 3339 strings. */
export interface ConfigMapObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    creationTimestamp?: string;
    labels?: Record<string, string>;
  };
  data?: Record<string, string>;
}

/** Where one ConfigMap came from and whether its namespace is trusted. */
export interface ConfigMapOrigin {
  readonly kind: 'configmap' | 'file';
  /** File path, for file sources. */
  readonly path?: string;
  /** False for a labelled ConfigMap seen outside the trusted namespaces: consumers must ignore it. */
  readonly trusted: boolean;
}

export type ConfigMapChange = 'added' | 'updated' | 'deleted';

export type ConfigMapSourceEvent =
  | {
      readonly type: ConfigMapChange;
      /** Identity of the ConfigMap within its source (stable across updates). */
      readonly key: string;
      readonly configMap: ConfigMapObject;
      readonly origin: ConfigMapOrigin;
    }
  /** The first full listing (of every namespace) has been delivered. */
  | { readonly type: 'synced' }
  /** A fresh listing was delivered after a reconnect or a 410 Gone; differences arrived as events. */
  | { readonly type: 'relisted'; readonly namespace?: string }
  /** The source failed (watch dropped, list refused, unreadable file); cached objects stay in force. */
  | { readonly type: 'error'; readonly error: SourceError; readonly namespace?: string; readonly retryInMs?: number };

export interface SourceError {
  readonly code: 'WatchFailed' | 'ListFailed' | 'Gone' | 'ReadFailed' | 'ParseFailed';
  readonly message: string;
  readonly path?: string;
}

export type ConfigMapSourceHandler = (event: ConfigMapSourceEvent) => void;

export interface ConfigMapSource {
  /** Short name for logs and list(), e.g. `kubernetes` or `files:/etc/schemas`. */
  readonly id: string;
  /** Begins delivering events; resolves once started (not necessarily synced). Call once. */
  start(handler: ConfigMapSourceHandler): Promise<void>;
  /** Stops watching and releases timers and connections. Idempotent. */
  stop(): Promise<void>;
  /** True once the first full listing has been delivered. */
  hasSynced(): boolean;
  /**
   * For sources that read a cluster: whether ConfigMaps in this namespace are trusted. Sources
   * without namespaces (files) leave it out.
   */
  isTrustedNamespace?(namespace: string): boolean;
}

/** `namespace/name` (or just `name` when namespace-less), for logs and reports. */
export function configMapRef(cm: ConfigMapObject): string {
  return cm.metadata.namespace ? `${cm.metadata.namespace}/${cm.metadata.name}` : cm.metadata.name;
}
