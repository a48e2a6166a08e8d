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

export interface ConfigMapSourcesConfig {
  readonly source: 'files' | 'kubernetes';
  /** Directories or files read (and watched) as file sources; with `kubernetes`, read as well. */
  readonly paths: readonly string[];
  readonly labelSelector: string;
  readonly trustedNamespaces: readonly string[];
  readonly kubeconfig?: string;
}

/** Sources of labelled ConfigMaps, for any registry: extension schemas here, platform policies too. */
export function configMapSourcesFor(config: ConfigMapSourcesConfig): ConfigMapSource[] {
  const files = config.paths.length === 0 ? [] : [new FileConfigMapSource({ paths: config.paths, labelSelector: config.labelSelector, watch: true })];
  if (config.source !== 'kubernetes') return files;
  const cluster = new KubeConfigMapSource({
    labelSelector: config.labelSelector,
    trustedNamespaces: config.trustedNamespaces,
    ...(config.kubeconfig === undefined ? {} : { kubeconfigPath: config.kubeconfig }),
  });
  return [cluster, ...files];
}

export function schemaSourcesFor(config: SchemaSourceConfig): ConfigMapSource[] {
  // Files carry the same label as in the cluster, so one YAML serves both `kubectl apply` and --schema-dir.
  return configMapSourcesFor({
    source: config.schemaSource,
    paths: config.schemaSource === 'kubernetes' ? [] : [config.schemaDir],
    labelSelector: EXTENSION_SCHEMA_SELECTOR,
    trustedNamespaces: config.trustedNamespaces,
    ...(config.kubeconfig === undefined ? {} : { kubeconfig: config.kubeconfig }),
  });
}

/** Stop it with `registry.stop()` (closes watches and timers). */
export async function startSchemaRegistry(config: SchemaSourceConfig, logger: Logger, metrics: Metrics): Promise<ExtensionSchemaRegistry> {
  const registry = new ExtensionSchemaRegistry({ logger, metrics });
  await registry.start(schemaSourcesFor(config));
  return registry;
}
