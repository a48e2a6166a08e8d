/**
 * The extension-schema registry for `serve`: files (the embedded default) or the cluster's labelled
 * ConfigMaps in the trusted namespaces. Handlers only see the SchemaRegistry interface.
 */
import type { Logger } from 'pino';
import type { Metrics } from '../observability/metrics.js';
import { EXTENSION_SCHEMA_SELECTOR } from '../schemas/configmap.js';
import { ExtensionSchemaRegistry } from '../schemas/extension-registry.js';
import { FileConfigMapSource } from '../schemas/file-source.js';
import { KubeConfigMapSource, resolveTrustedNamespaces } from '../schemas/kube-source.js';
import type { ConfigMapSource } from '../schemas/source.js';
import type { ServeConfig } from './serve-config.js';

export interface RunningSchemaRegistry {
  registry: ExtensionSchemaRegistry;
  /** Namespaces whose labelled ConfigMaps are trusted; undefined when unknown (files, no pod namespace). */
  trustedNamespaces: string[] | undefined;
  isTrustedNamespace(namespace: string): boolean;
  stop(): Promise<void>;
}

export async function trustedNamespacesFor(config: Pick<ServeConfig, 'schemaSource' | 'trustedNamespaces'>): Promise<string[] | undefined> {
  if (config.schemaSource === 'kubernetes') return resolveTrustedNamespaces(config.trustedNamespaces);
  // Files need no trust decision; the ConfigMap webhook still warns when it can tell.
  return resolveTrustedNamespaces(config.trustedNamespaces).catch(() => undefined);
}

export function schemaSourcesFor(config: ServeConfig, trustedNamespaces: string[] | undefined, selector: string, id: string): ConfigMapSource[] {
  if (config.schemaSource === 'kubernetes') {
    return [new KubeConfigMapSource({ id: `kubernetes:${id}`, labelSelector: selector, trustedNamespaces, kubeconfigPath: config.kubeconfig })];
  }
  return [new FileConfigMapSource({ id: `files:${id}`, paths: [config.schemaDir], labelSelector: selector, watch: true })];
}

export async function startSchemaRegistry(config: ServeConfig, logger: Logger, metrics: Metrics): Promise<RunningSchemaRegistry> {
  const trustedNamespaces = await trustedNamespacesFor(config);
  const registry = new ExtensionSchemaRegistry({ logger, metrics });
  await registry.start(schemaSourcesFor(config, trustedNamespaces, EXTENSION_SCHEMA_SELECTOR, 'extension-schemas'));
  logger.info({ source: config.schemaSource, trustedNamespaces, types: registry.list().length }, 'extension-schema registry started');
  return {
    registry,
    trustedNamespaces,
    isTrustedNamespace: (ns) => trustedNamespaces === undefined || trustedNamespaces.includes(ns),
    stop: () => registry.stop(),
  };
}
