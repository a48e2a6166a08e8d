/**
 * Wiring of platform policies into `serve`: the registry and its sources (the same switch and trust
 * boundary as extension schemas, selected by the policy label), namespace labels, the handler
 * context with metrics, and GET /policies.
 */
import type { Logger } from 'pino';
import type { App } from '../admission/app.js';
import type { Metrics } from '../observability/metrics.js';
import { configMapSourcesFor } from '../schemas/startup.js';
import type { PolicyContext, PolicyDecision } from './evaluate.js';
import { POLICY_SELECTOR } from './format.js';
import { type NamespaceLabelLookup, NO_NAMESPACE_LABELS } from './match.js';
import { KubeNamespaceCache } from './namespaces.js';
import { PolicyRegistry } from './registry.js';

export interface PolicySourceConfig {
  /** `kubernetes`: policy ConfigMaps from the trusted namespaces (plus --policy-dir, if given). */
  readonly schemaSource: 'files' | 'kubernetes';
  /** --policy-dir; undefined: no policy files. */
  readonly policyDir?: string;
  readonly trustedNamespaces: readonly string[];
  readonly kubeconfig?: string;
}

export interface PolicyRuntime {
  readonly registry: PolicyRegistry;
  readonly namespaces: NamespaceLabelLookup;
  /** Policies loaded and, in the cluster, namespace labels listed. */
  isReady(): boolean;
  stop(): Promise<void>;
}

/** Starts the policy registry (and, in the cluster, the namespace label cache). */
export async function startPolicies(config: PolicySourceConfig, logger: Logger, metrics: Metrics): Promise<PolicyRuntime> {
  const registry = new PolicyRegistry({ logger, metrics });
  await registry.start(
    configMapSourcesFor({
      source: config.schemaSource,
      paths: config.policyDir === undefined ? [] : [config.policyDir],
      labelSelector: POLICY_SELECTOR,
      trustedNamespaces: config.trustedNamespaces,
      ...(config.kubeconfig === undefined ? {} : { kubeconfig: config.kubeconfig }),
    }),
  );
  let cache: KubeNamespaceCache | undefined;
  if (config.schemaSource === 'kubernetes') {
    cache = new KubeNamespaceCache({ logger, ...(config.kubeconfig === undefined ? {} : { kubeconfigPath: config.kubeconfig }) });
    await cache.start();
  }
  return {
    registry,
    namespaces: cache ?? NO_NAMESPACE_LABELS,
    isReady: () => registry.isReady() && (cache?.hasSynced() ?? true),
    stop: async () => {
      await Promise.all([registry.stop(), cache?.stop()]);
    },
  };
}

/** Counts decisions in `policyDecisions{policy, rule, action}`. */
export const decisionRecorder =
  (metrics: Metrics) =>
  (decisions: readonly PolicyDecision[]): void => {
    for (const d of decisions) metrics.policyDecisions.inc({ policy: d.policy, rule: d.rule, action: d.action });
  };

/** The per-request policy context: a fresh snapshot each time. */
export function policyContextFor(registry: Pick<PolicyRegistry, 'snapshot'>, namespaces: NamespaceLabelLookup, metrics?: Metrics): () => PolicyContext {
  const record = metrics ? decisionRecorder(metrics) : undefined;
  return () => ({ policies: registry.snapshot(), namespaces, ...(record ? { record } : {}) });
}

/** GET /policies: loaded policies, their matches and errors, and conflicts between them. */
export function policiesRoute(registry: Pick<PolicyRegistry, 'report'>): (app: App) => void {
  return (app) => {
    app.get('/policies', async () => registry.report());
  };
}
