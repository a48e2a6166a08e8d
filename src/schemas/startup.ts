/**
 * Builds and starts the extension-schema registry from the serve configuration: the file source
 * (`--schema-source files`, watching `--schema-dir`) or the cluster source (`--schema-source
 * kubernetes`). Returns as soon as the sources have started; readiness follows `isReady()`.
 */
import type { Logger } from 'pino';
import type { Metrics } from '../observability/metrics.js';
import { EXTENSION_SCHEMA_SELECTOR } from './configmap.js';
import { ExtensionSchemaRegistry } from './extension-registry.js';
import { FileConfigMapSource } from './file-source.js';
import { KubeConfigMapSource } from './kube-source.js';
import type { ConfigMapSource } from './source.js';

export interface SchemaSourceConfig {
  readonly schemaSource: 'files' | 'kubernetes';
  readonly schemaDir: string;
  /** Empty: the pod's own namespace. */
  readonly trustedNamespaces: readonly string[];
  readonly kubeconfig?: string;
}

export function schemaSourcesFor(config: SchemaSourceConfig): ConfigMapSource[] {
  if (config.schemaSource === 'kubernetes') {
    return [
      new KubeConfigMapSource({
        labelSelector: EXTENSION_SCHEMA_SELECTOR,
        trustedNamespaces: config.trustedNamespaces,
        ...(config.kubeconfig === undefined ? {} : { kubeconfigPath: config.kubeconfig }),
      }),
    ];
  }
  // Files carry the same label as in the cluster, so one YAML serves both `kubectl apply` and --schema-dir.
  return [new FileConfigMapSource({ paths: [config.schemaDir], labelSelector: EXTENSION_SCHEMA_SELECTOR, watch: true })];
}

/** Stop it with `registry.stop()` (closes watches and timers). */
export async function startSchemaRegistry(config: SchemaSourceConfig, logger: Logger, metrics: Metrics): Promise<ExtensionSchemaRegistry> {
  const registry = new ExtensionSchemaRegistry({ logger, metrics });
  await registry.start(schemaSourcesFor(config));
  return registry;
}
