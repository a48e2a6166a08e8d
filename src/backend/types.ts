/** Shapes of the Backend API (spec only; status is the controllers' and never judged). */

export const API_GROUP = 'ainetworking.prototype.x-k8s.io';
export const API_VERSION = 'v0alpha0';
export const SERVED_KINDS = ['Backend', 'XBackendDestination'] as const;
export type ServedKind = (typeof SERVED_KINDS)[number];

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  resourceVersion?: string;
  creationTimestamp?: string;
  [key: string]: unknown;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  [key: string]: unknown;
}

export interface ObjectReference {
  group?: string;
  kind?: string;
  name?: string;
  namespace?: string;
}

export interface BackendTLS {
  mode?: string;
  sni?: string;
  caBundleRef?: ObjectReference[];
  clientCertificateRef?: ObjectReference;
  insecureSkipVerify?: boolean;
  subjectAltNames?: string[];
}

export interface BackendPort {
  number?: number;
  protocol?: string;
  tls?: BackendTLS;
  protocolOptions?: { mcp?: { version?: string; path?: string } };
}

export interface BackendDestination {
  type?: string;
  fqdn?: { hostname?: string };
  ip?: { address?: string };
  service?: { name?: string; namespace?: string };
  ports?: BackendPort[];
}

export interface BackendExtension {
  name?: string;
  type?: string;
  rawConfig?: unknown;
}

export interface BackendSpec {
  destination?: BackendDestination;
  extensions?: BackendExtension[];
}

export interface Backend extends KubeObject {
  spec?: BackendSpec;
  status?: unknown;
}
