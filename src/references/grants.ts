/**
 * Cross-namespace references and Gateway API ReferenceGrants, as pure data and functions (issue
 * 12.4). A reference from an object in namespace A to a Secret or ConfigMap in namespace B is
 * allowed only when a ReferenceGrant in B lets objects of that group and kind from A refer to it
 * (Gateway API's rule: the owner of the target namespace decides). Kind-agnostic: the referring
 * group and kind are inputs, so any served kind (Backend, Gateway API XBackend, ...) uses the same
 * lookup. Grants come from an informer in the cluster and from the input documents offline.
 */
import { isPlainObject } from '../backend/paths.js';

export const GATEWAY_GROUP = 'gateway.networking.k8s.io';
/** Served ReferenceGrant versions, newest first (the same objects under either). */
export const REFERENCE_GRANT_VERSIONS = ['v1', 'v1beta1'] as const;

/** What `--cross-namespace-refs` says. */
export type CrossNamespaceRefsMode = 'deny' | 'reference-grant' | 'allow';
export const CROSS_NAMESPACE_REFS_MODES: readonly CrossNamespaceRefsMode[] = ['deny', 'reference-grant', 'allow'];

/** The object holding the reference. */
export interface ReferenceFrom {
  readonly group: string;
  readonly kind: string;
  readonly namespace: string;
}

/** What it refers to (`name` is the referent's; a grant may name it or not). */
export interface ReferenceTo {
  readonly group: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace: string;
}

/** Answers "does a ReferenceGrant allow this?"; judging calls it, it does no I/O. */
export interface ReferenceGrantLookup {
  allows(from: ReferenceFrom, to: ReferenceTo): boolean;
}

/** No grants at all (no cluster, or the ReferenceGrant CRD is not installed). */
export const NO_REFERENCE_GRANTS: ReferenceGrantLookup = Object.freeze({ allows: () => false });

/** One ReferenceGrant, reduced to what the rule reads. */
export interface ReferenceGrant {
  readonly namespace: string;
  readonly name: string;
  readonly from: ReadonlyArray<{ readonly group: string; readonly kind: string; readonly namespace: string }>;
  readonly to: ReadonlyArray<{ readonly group: string; readonly kind: string; readonly name?: string }>;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** True for `gateway.networking.k8s.io/v1` or `/v1beta1` `ReferenceGrant`. */
export function isReferenceGrant(object: unknown): object is Record<string, unknown> {
  if (!isPlainObject(object) || object['kind'] !== 'ReferenceGrant') return false;
  return (REFERENCE_GRANT_VERSIONS as readonly string[]).some((v) => object['apiVersion'] === `${GATEWAY_GROUP}/${v}`);
}

/**
 * Reads a ReferenceGrant object (as the API server or a manifest has it); undefined when it is
 * not one or has no namespace. Malformed entries are skipped: they grant nothing. `defaultNamespace`
 * stands for a manifest without one (offline: `kubectl apply` puts it in `default`).
 */
export function parseReferenceGrant(object: unknown, defaultNamespace?: string): ReferenceGrant | undefined {
  if (!isReferenceGrant(object)) return undefined;
  const meta = isPlainObject(object['metadata']) ? object['metadata'] : {};
  const namespace = str(meta['namespace']) || defaultNamespace;
  if (!namespace) return undefined;
  const spec = isPlainObject(object['spec']) ? object['spec'] : {};
  const list = (v: unknown): Record<string, unknown>[] => (Array.isArray(v) ? v.filter(isPlainObject) : []);
  const from = list(spec['from']).flatMap((f) => {
    const kind = str(f['kind']);
    const ns = str(f['namespace']);
    return kind && ns ? [{ group: str(f['group']) ?? '', kind, namespace: ns }] : [];
  });
  const to = list(spec['to']).flatMap((t) => {
    const kind = str(t['kind']);
    const name = str(t['name']);
    return kind ? [{ group: str(t['group']) ?? '', kind, ...(name ? { name } : {}) }] : [];
  });
  return { namespace, name: str(meta['name']) ?? '', from, to };
}

/** Whether one grant allows the reference (it must sit in the target's namespace). */
export function grantAllows(grant: ReferenceGrant, from: ReferenceFrom, to: ReferenceTo): boolean {
  if (grant.namespace !== to.namespace) return false;
  const fromOk = grant.from.some((f) => f.group === from.group && f.kind === from.kind && f.namespace === from.namespace);
  return fromOk && grant.to.some((t) => t.group === to.group && t.kind === to.kind && (t.name === undefined || t.name === to.name));
}

/** Grants by the namespace they sit in, replaceable as a whole or one grant at a time. */
export class ReferenceGrantIndex implements ReferenceGrantLookup {
  private byNamespace = new Map<string, Map<string, ReferenceGrant>>();

  constructor(grants: Iterable<ReferenceGrant> = []) {
    for (const g of grants) this.put(g);
  }

  /** From any objects (offline input): keeps the ReferenceGrants among them. */
  static fromObjects(objects: Iterable<unknown>, defaultNamespace = 'default'): ReferenceGrantIndex {
    const index = new ReferenceGrantIndex();
    for (const o of objects) {
      const grant = parseReferenceGrant(o, defaultNamespace);
      if (grant) index.put(grant);
    }
    return index;
  }

  get size(): number {
    let n = 0;
    for (const m of this.byNamespace.values()) n += m.size;
    return n;
  }

  put(grant: ReferenceGrant): void {
    let inNamespace = this.byNamespace.get(grant.namespace);
    if (!inNamespace) this.byNamespace.set(grant.namespace, (inNamespace = new Map()));
    inNamespace.set(grant.name, grant);
  }

  remove(namespace: string, name: string): void {
    const inNamespace = this.byNamespace.get(namespace);
    inNamespace?.delete(name);
    if (inNamespace?.size === 0) this.byNamespace.delete(namespace);
  }

  replaceAll(grants: Iterable<ReferenceGrant>): void {
    const next = new ReferenceGrantIndex(grants);
    this.byNamespace = next.byNamespace;
  }

  allows(from: ReferenceFrom, to: ReferenceTo): boolean {
    const inNamespace = this.byNamespace.get(to.namespace);
    if (!inNamespace) return false;
    for (const grant of inNamespace.values()) if (grantAllows(grant, from, to)) return true;
    return false;
  }
}

/**
 * Why a reference from `from` to `to` is refused, or undefined when it is allowed: same namespace,
 * mode `allow`, or (mode `reference-grant`) a grant in the target namespace allows it.
 */
export function crossNamespaceRefProblem(mode: CrossNamespaceRefsMode, grants: ReferenceGrantLookup | undefined, from: ReferenceFrom, to: ReferenceTo): string | undefined {
  if (to.namespace === from.namespace || mode === 'allow') return undefined;
  if (mode === 'deny') return `must be the ${from.kind}'s own namespace (${from.namespace}): references to other namespaces are not allowed here`;
  if (grants?.allows(from, to) === true) return undefined;
  const what = `${to.kind} ${JSON.stringify(to.name)}`;
  return `a ${to.kind} in another namespace needs a ReferenceGrant in ${to.namespace} from ${from.kind} (${from.group}) in ${from.namespace} to ${what}; none was found`;
}
