/**
 * What `audit` judges, read from the cluster in one pass: the stored objects of every served kind,
 * the labelled extension-schema and policy ConfigMaps of the trusted namespaces only, Namespaces
 * (policies select on their labels) and ReferenceGrants (cross-namespace references). Each object
 * becomes an input document, so the offline pipeline, and through it the webhook's own processors,
 * judges it: no rule lives here. Lists are paged (`limit`/`continue`) so a large cluster is read
 * in bounded pieces.
 *
 * client-node is imported lazily: loading it costs over a second.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { POLICY_LABEL } from '../policies/format.js';
import { EXTENSION_SCHEMA_LABEL } from '../schemas/configmap.js';
import type { InputDocument } from '../offline/documents.js';
import { firstLine, statusOf } from '../kube/errors.js';

/** A resource to list: group/version/plural, and the kind its items carry. */
export interface AuditedResource {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly kind: string;
}

export interface ClusterReadOptions {
  /** kubeconfig file; default: KUBECONFIG, ~/.kube/config, then in-cluster. */
  readonly kubeconfig?: string;
  /** Only this namespace's served objects (schemas and policies still come from the trusted ones). */
  readonly namespace?: string;
  /** Label selector for the served objects. */
  readonly selector?: string;
  readonly trustedNamespaces: readonly string[];
  /** The served kinds' resources. */
  readonly resources: readonly AuditedResource[];
  /** Items per list call. */
  readonly pageSize?: number;
}

export type ClusterReadErrorCode = 'KubeConfig' | 'ListFailed' | 'Forbidden';

export class ClusterReadError extends Error {
  constructor(
    readonly code: ClusterReadErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ClusterReadError';
  }
}

export interface ClusterSnapshot {
  /** The API server's URL, as the report's "file". */
  readonly server: string;
  readonly documents: InputDocument[];
  /** Resources that do not exist in this cluster (CRD not installed): skipped, said once. */
  readonly absent: string[];
}

const REFERENCE_GRANTS: AuditedResource = { group: 'gateway.networking.k8s.io', version: 'v1beta1', plural: 'referencegrants', kind: 'ReferenceGrant' };

type Listed = { items?: unknown[]; metadata?: { _continue?: string; continue?: string } };

export async function readCluster(options: ClusterReadOptions): Promise<ClusterSnapshot> {
  const k8s = await import('@kubernetes/client-node');
  let kc: KubeConfig;
  try {
    kc = new k8s.KubeConfig();
    if (options.kubeconfig) kc.loadFromFile(options.kubeconfig);
    else kc.loadFromDefault();
    if (!kc.getCurrentCluster()) throw new Error('no cluster in the kubeconfig (use --kubeconfig or KUBECONFIG, or run in a pod)');
  } catch (error) {
    throw new ClusterReadError('KubeConfig', `cannot load the Kubernetes client configuration: ${firstLine(error)}`);
  }
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const server = kc.getCurrentCluster()!.server;
  const limit = options.pageSize ?? 500;
  const absent: string[] = [];
  const objects: Record<string, unknown>[] = [];

  const pages = async (what: string, fetchPage: (cont: string | undefined) => Promise<Listed>, optional: boolean): Promise<unknown[]> => {
    const items: unknown[] = [];
    let cont: string | undefined;
    do {
      let page: Listed;
      try {
        page = await fetchPage(cont);
      } catch (error) {
        const status = statusOf(error);
        if (status === 404 && optional) {
          absent.push(what);
          return [];
        }
        if (status === 401 || status === 403) throw new ClusterReadError('Forbidden', `not allowed to list ${what} (HTTP ${status})`);
        throw new ClusterReadError('ListFailed', `cannot list ${what}: ${firstLine(error)}`);
      }
      items.push(...(page.items ?? []));
      cont = page.metadata?._continue ?? page.metadata?.continue ?? undefined;
    } while (cont);
    return items;
  };

  const listCustom = (resource: AuditedResource, namespace: string | undefined, labelSelector: string | undefined, optional: boolean) =>
    pages(
      `${resource.plural}.${resource.group}${namespace ? ` in ${namespace}` : ''}`,
      (cont) =>
        (namespace
          ? custom.listNamespacedCustomObject({ group: resource.group, version: resource.version, namespace, plural: resource.plural, labelSelector, limit, _continue: cont })
          : custom.listClusterCustomObject({ group: resource.group, version: resource.version, plural: resource.plural, labelSelector, limit, _continue: cont })) as Promise<Listed>,
      optional,
    );

  for (const resource of options.resources) {
    // A served kind whose CRD is not installed has nothing stored: not an error.
    for (const item of await listCustom(resource, options.namespace, options.selector, true)) {
      objects.push(withKind(item, `${resource.group}/${resource.version}`, resource.kind));
    }
  }
  for (const namespace of options.trustedNamespaces) {
    for (const label of [EXTENSION_SCHEMA_LABEL, POLICY_LABEL]) {
      const items = await pages(`configmaps in ${namespace}`, (cont) => core.listNamespacedConfigMap({ namespace, labelSelector: `${label}=true`, limit, _continue: cont }) as Promise<Listed>, false);
      for (const item of items) objects.push(plainConfigMap(item));
    }
  }
  for (const item of await pages('namespaces', (cont) => core.listNamespace({ limit, _continue: cont }) as Promise<Listed>, false)) {
    const meta = (item as { metadata?: { name?: string; labels?: Record<string, string> } }).metadata ?? {};
    objects.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: meta.name ?? '', labels: { ...(meta.labels ?? {}) } } });
  }
  // Without Gateway API's CRD nothing is granted: context, not a subject, so not reported absent.
  const grants = await listCustom(REFERENCE_GRANTS, undefined, undefined, true);
  if (absent.at(-1)?.startsWith(REFERENCE_GRANTS.plural)) absent.pop();
  for (const item of grants) {
    objects.push(withKind(item, `${REFERENCE_GRANTS.group}/${REFERENCE_GRANTS.version}`, REFERENCE_GRANTS.kind));
  }

  const documents = objects.map((object, index) => clusterDocument(server, index, object));
  return { server, documents, absent };
}

/** A stored object as an input document: no text, so every field "is" on line 1. */
function clusterDocument(server: string, index: number, object: Record<string, unknown>): InputDocument {
  return { file: server, document: index, line: 1, object, lineOf: () => 1 };
}

/** Custom-object list items carry apiVersion and kind; set them anyway (a List may leave them out). */
function withKind(item: unknown, apiVersion: string, kind: string): Record<string, unknown> {
  const object = isRecord(item) ? item : {};
  return { ...object, apiVersion: typeof object.apiVersion === 'string' ? object.apiVersion : apiVersion, kind: typeof object.kind === 'string' ? object.kind : kind };
}

/** client-node turns ConfigMaps into typed objects (Dates included); the judges want plain JSON. */
function plainConfigMap(item: unknown): Record<string, unknown> {
  const cm = item as { metadata?: Record<string, unknown>; data?: Record<string, string> };
  const m = cm.metadata ?? {};
  const created = m.creationTimestamp instanceof Date ? m.creationTimestamp.toISOString() : m.creationTimestamp;
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: m.name,
      namespace: m.namespace,
      ...(m.uid === undefined ? {} : { uid: m.uid }),
      ...(m.resourceVersion === undefined ? {} : { resourceVersion: m.resourceVersion }),
      ...(created === undefined ? {} : { creationTimestamp: created }),
      labels: { ...((m.labels as Record<string, string> | undefined) ?? {}) },
    },
    data: { ...(cm.data ?? {}) },
  };
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
