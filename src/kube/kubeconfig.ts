/**
 * The cluster access `serve`'s watchers share: a KubeConfig handed in (tests), a kubeconfig file
 * (--kubeconfig), or the pod's in-cluster service account. client-node is passed in, not imported,
 * so loading it stays lazy at each caller.
 */
import type { KubeConfig } from '@kubernetes/client-node';

export interface ClusterAccess {
  readonly kubeConfig?: KubeConfig;
  readonly kubeconfigPath?: string;
}

export function clusterKubeConfig(k8s: typeof import('@kubernetes/client-node'), access: ClusterAccess): KubeConfig {
  if (access.kubeConfig) return access.kubeConfig;
  const kc = new k8s.KubeConfig();
  if (access.kubeconfigPath) kc.loadFromFile(access.kubeconfigPath);
  else kc.loadFromCluster();
  return kc;
}
