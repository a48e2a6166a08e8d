/** Builders for AdmissionReview requests about Backends, as kube-apiserver sends them. */
import { randomUUID } from 'node:crypto';

export const GROUP = 'ainetworking.prototype.x-k8s.io';
export const VERSION = 'v0alpha0';

export interface ReviewOptions {
  apiVersion?: 'admission.k8s.io/v1' | 'admission.k8s.io/v1beta1';
  operation?: 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
  kind?: string;
  oldObject?: unknown;
  dryRun?: boolean;
  uid?: string;
  subResource?: string;
  /** Another kind than the Backend group's: group, version and resource plural. */
  gvk?: { group: string; version: string; resource: string };
}

export function review(object: unknown, opts: ReviewOptions = {}): any {
  const kind = opts.kind ?? ((object as { kind?: string } | null)?.kind ?? 'Backend');
  const plural = opts.gvk?.resource ?? (kind === 'XBackendDestination' ? 'xbackenddestinations' : 'backends');
  const group = opts.gvk?.group ?? GROUP;
  const version = opts.gvk?.version ?? VERSION;
  const meta = (object as { metadata?: { name?: string; namespace?: string } } | null)?.metadata;
  return {
    apiVersion: opts.apiVersion ?? 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: opts.uid ?? randomUUID(),
      kind: { group, version, kind },
      resource: { group, version, resource: plural },
      requestKind: { group, version, kind },
      requestResource: { group, version, resource: plural },
      ...(opts.subResource ? { subResource: opts.subResource } : {}),
      name: meta?.name ?? 'openai',
      namespace: meta?.namespace ?? 'team-a',
      operation: opts.operation ?? 'CREATE',
      userInfo: { username: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] },
      object: object ?? null,
      oldObject: opts.oldObject ?? null,
      dryRun: opts.dryRun ?? false,
      options: { kind: 'CreateOptions', apiVersion: 'meta.k8s.io/v1', fieldManager: 'kubectl-client-side-apply', fieldValidation: 'Strict' },
    },
  };
}

export function backend(spec: unknown, name = 'openai', kind = 'Backend'): any {
  return { apiVersion: `${GROUP}/${VERSION}`, kind, metadata: { name, namespace: 'team-a' }, spec };
}

/** An external FQDN Backend with two ports, one with TLS set and one left for defaulting. */
export function openaiBackend(): any {
  return backend({
    destination: {
      type: 'Fqdn',
      fqdn: { hostname: 'api.openai.com' },
      ports: [
        { number: 443, protocol: 'HTTP', tls: { mode: 'Simple', sni: 'api.openai.com' } },
        { number: 8443, protocol: 'HTTP2' },
      ],
    },
  });
}

export function decodePatch(response: any): any[] {
  return JSON.parse(Buffer.from(response.patch, 'base64').toString('utf8'));
}

/** Audit annotation keys the API server keeps: qualified-name parts, no '/', <= 63 chars. */
export const AUDIT_KEY = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

const PLURALS: Record<string, string> = { XBackend: 'xbackends', BackendTLSPolicy: 'backendtlspolicies', Backend: 'backends', XBackendDestination: 'xbackenddestinations' };

/** A review of any object, its group/version/kind read from its own apiVersion and kind. */
export function reviewOf(object: any, opts: Omit<ReviewOptions, 'gvk' | 'kind'> = {}): any {
  const [group, version] = String(object.apiVersion).split('/');
  return review(object, { ...opts, kind: object.kind, gvk: { group: group!, version: version!, resource: PLURALS[object.kind] ?? `${String(object.kind).toLowerCase()}s` } });
}
