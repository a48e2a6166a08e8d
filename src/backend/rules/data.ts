/**
 * The rule data: every value upstream (wg-ai-gateway's Backend, Gateway API's XBackend) or a cloud
 * could change, in one place, so that following a change is an edit here (plus a test case), not a
 * change of code. Structure (fields, types, lengths, list sizes) is in schemas/backend.schema.json.
 */

/** Refused destination ranges: an egress gateway pointed there is an SSRF hole. */
export const REFUSED_RANGES: ReadonlyArray<readonly [cidr: string, why: string]> = [
  ['0.0.0.0/8', '"this network"'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local, incl. the cloud metadata address'],
  ['224.0.0.0/4', 'multicast'],
  ['255.255.255.255/32', 'broadcast'],
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback'],
  ['fe80::/10', 'link-local'],
  ['ff00::/8', 'multicast'],
  ['fd00:ec2::254/128', 'the AWS IPv6 instance metadata address'],
];

export const MAPPED_LABEL = 'IPv4-mapped';

/**
 * IPv6 ranges whose addresses carry an IPv4 address (and where its 4 bytes start): each is refused
 * like the IPv4 address it carries. The first match decides, so the narrower ranges come first.
 */
export const IPV4_EMBEDDING_RANGES: ReadonlyArray<readonly [cidr: string, label: string, offset: number]> = [
  ['::ffff:0:0/96', MAPPED_LABEL, 12],
  ['::ffff:0:0:0/96', 'IPv4-translated', 12],
  ['64:ff9b::/96', 'NAT64', 12],
  ['2002::/16', '6to4', 2],
  ['::/96', 'IPv4-compatible', 12],
];

/** Name suffixes that are cluster-internal besides `<clusterDomain>` and `svc` (a flag replaces this list). */
export const DEFAULT_INTERNAL_DOMAINS: readonly string[] = ['clusterset.local'];

/** First labels of loopback names (`localhost.localdomain`, RHEL's `localhost6.localdomain6`, `localhost.example.com`). */
export const LOOPBACK_FIRST_LABELS: readonly string[] = ['localhost', 'localhost6'];

/** TLS modes pasted from older drafts and neighbouring APIs, each with what to write instead. */
export const TLS_MODE_HINTS: Readonly<Record<string, string>> = {
  SIMPLE: 'modes are PascalCase: use "Simple"',
  MUTUAL: 'modes are PascalCase: use "Mutual"',
  InsecureDisable: 'use "None" to send plaintext',
  PlatformProvided: 'use "None" when the platform adds TLS itself',
  Passthrough: 'TLS passthrough is a Gateway listener setting, not a Backend one',
  ServerOnly: 'that is Gateway API XBackend\'s name: use "Simple"',
  ClientAndServer: 'that is Gateway API XBackend\'s name: use "Mutual"',
};

/** Gateway API XBackend protocols (apisx/v1alpha1) pasted into a Backend, with the Backend's way to say them. */
export const PROTOCOL_HINTS: Readonly<Record<string, string>> = {
  HTTP11: 'that is Gateway API XBackend\'s name: use "HTTP"',
  H2C: 'that is Gateway API XBackend\'s name: use "HTTP2" with tls.mode: None',
  GRPC: 'that is Gateway API XBackend\'s name: use "HTTP2"',
  WSS: 'that is Gateway API XBackend\'s name: use "HTTP" with a tls block',
};

/**
 * Gateway API XBackend fields pasted into a Backend: where each goes instead. Keys are field paths
 * with `[]` for any list index; the schema reports them as unknown fields, with this hint.
 */
export const XBACKEND_FIELD_HINTS: Readonly<Record<string, string>> = {
  'spec.type': 'that is Gateway API XBackend\'s field: use spec.destination.type (Fqdn, Ip or Service)',
  'spec.externalHostname': 'that is Gateway API XBackend\'s field: use spec.destination.fqdn.hostname',
  'spec.port': 'that is Gateway API XBackend\'s field: use spec.destination.ports[].number',
  'spec.protocol': 'that is Gateway API XBackend\'s field: use spec.destination.ports[].protocol',
  'spec.tls': 'that is Gateway API XBackend\'s field: use spec.destination.ports[].tls',
  'spec.destination.ports[].tls.validation':
    'that is Gateway API XBackend\'s field: use tls.sni for its hostname, tls.caBundleRef, tls.subjectAltNames',
};

/** Kinds a `caBundleRef[]` may name, by group ("" is the core group). */
export const CA_BUNDLE_KINDS: Readonly<Record<string, string>> = { ConfigMap: '', Secret: '', ClusterTrustBundle: 'certificates.k8s.io' };
/** Kinds a `clientCertificateRef` may name. */
export const CLIENT_CERTIFICATE_KINDS: Readonly<Record<string, string>> = { Secret: '' };
/** What an absent `kind` of a reference means (the CRD's default upstream). */
export const DEFAULT_REFERENCE_KIND = 'Secret';
