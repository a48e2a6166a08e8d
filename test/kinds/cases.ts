/**
 * Table cases for the kinds beyond Backend: Gateway API XBackend (valid ones modelled on the Gateway
 * API XBackend guide and Istio's egress examples, written here; every upstream CEL rule's violation;
 * the webhook's own refusals) and the BackendTLSPolicy guard. Data only: the same table runs through
 * the units (units.test.ts), the HTTPS server (rules-table.test.ts) and the CLI (cli-parity.test.ts).
 */
import { e, F, I, NS, R, TM, U, type BackendCase } from '../backend/cases.js';

export type KindCase = BackendCase;
type Obj = Record<string, unknown>;

// ---------------------------------------------------------------- XBackend

export const XBACKEND_API_VERSION = 'gateway.networking.x-k8s.io/v1alpha1';

export function makeXBackend(spec: unknown, overrides: Obj = {}): Obj {
  return { apiVersion: XBACKEND_API_VERSION, kind: 'XBackend', metadata: { name: 'openai', namespace: 'team-a' }, spec, ...overrides };
}

const systemTls = (hostname = 'api.openai.com', extra: Obj = {}): Obj => ({ mode: 'ServerOnly', validation: { hostname, wellKnownCACertificates: 'System' }, ...extra });
/** An ExternalHostname XBackend; `spec` members override the defaults (undefined removes one). */
function xb(spec: Obj = {}, hostname: unknown = 'api.openai.com'): Obj {
  const base: Obj = { type: 'ExternalHostname', externalHostname: { hostname }, port: { port: 443 }, protocol: 'HTTP', tls: systemTls() };
  for (const [k, v] of Object.entries(spec)) {
    if (v === undefined) delete base[k];
    else base[k] = v;
  }
  return makeXBackend(base);
}
const host = (hostname: unknown): Obj => xb({ tls: undefined }, hostname);
const validation = (v: Obj): Obj => xb({ tls: { mode: 'ServerOnly', validation: { hostname: 'api.openai.com', ...v } } });
const san = (...items: unknown[]): Obj => validation({ wellKnownCACertificates: 'System', subjectAltNames: items });
const ref = (i: number): Obj => ({ group: '', kind: 'ConfigMap', name: `ca-${i}` });

const HOST = 'spec.externalHostname.hostname';
const V = 'spec.tls.validation';
const W_PLAINTEXT = /^spec\.tls\.mode: None sends plaintext to an external hostname/;
const W_H2C = /^spec\.protocol: H2C is cleartext HTTP\/2 but spec\.tls is set/;
const W_HTTP2 = /^spec\.protocol: HTTP2 without TLS/;
const W_WSS = /^spec\.protocol: WSS is WebSocket over TLS/;
const W_RATCHET = /^unchanged, so allowed: /;

export const XBACKEND_CASES: KindCase[] = [
  // valid
  { name: 'xbackend valid: OpenAI over TLS verified by the system roots', object: xb(), expectErrors: [] },
  { name: 'xbackend valid: released port shape with a name', object: xb({ port: { name: 'https', port: 443 } }), expectErrors: [] },
  { name: 'xbackend valid: later port shape {number}', object: xb({ port: { number: 8443 } }), expectErrors: [] },
  { name: 'xbackend valid: empty port name (CEL allows size 0)', object: xb({ port: { name: '', port: 443 } }), expectErrors: [] },
  { name: 'xbackend valid: no protocol, no tls (defaulted by /mutate)', object: xb({ protocol: undefined, tls: undefined }), expectErrors: [] },
  { name: 'xbackend valid: private CA in a ConfigMap', object: validation({ caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: 'corp-ca' }] }), expectErrors: [] },
  { name: 'xbackend valid: vendor well-known CA set', object: validation({ wellKnownCACertificates: 'example.com/corp-roots' }), expectErrors: [] },
  {
    name: 'xbackend valid: mutual TLS with a client certificate in the same namespace',
    object: xb({ tls: { mode: 'ClientAndServer', clientCertificateRef: { name: 'client-cert' }, validation: { hostname: 'api.openai.com', wellKnownCACertificates: 'System' } } }),
    expectErrors: [],
  },
  {
    name: 'xbackend valid: client certificate naming its own namespace explicitly',
    object: xb({ tls: { mode: 'ClientAndServer', clientCertificateRef: { group: '', kind: 'Secret', name: 'client-cert', namespace: 'team-a' }, validation: { hostname: 'api.openai.com', wellKnownCACertificates: 'System' } } }),
    expectErrors: [],
  },
  { name: 'xbackend valid: subject alt names of both types', object: san({ type: 'Hostname', hostname: '*.openai.com' }, { type: 'URI', uri: 'spiffe://corp.example/ns/egress/sa/gw' }), expectErrors: [] },
  { name: 'xbackend valid: MCP server (Istio egress example)', object: xb({ protocol: 'MCP', port: { port: 443 } }, 'mcp.example.com'), expectErrors: [] },
  { name: 'xbackend valid: GRPC protocol (later versions)', object: xb({ protocol: 'GRPC' }), expectErrors: [] },
  { name: 'xbackend valid: TCP protocol', object: xb({ protocol: 'TCP' }), expectErrors: [] },
  { name: 'xbackend valid: HTTP11 protocol', object: xb({ protocol: 'HTTP11' }), expectErrors: [] },
  { name: 'xbackend valid: status of either shape is ignored', object: { ...xb(), status: { parents: [{ bogus: true }], ancestors: 'anything' } }, expectErrors: [] },
  // warnings (allowed)
  { name: 'xbackend warning: mode None to an external hostname', object: xb({ protocol: 'H2C', tls: { mode: 'None' } }), expectErrors: [], expectWarnings: [W_PLAINTEXT] },
  { name: 'xbackend warning: H2C with TLS set (draft rule)', object: xb({ protocol: 'H2C' }), expectErrors: [], expectWarnings: [W_H2C] },
  { name: 'xbackend warning: HTTP2 without TLS (draft rule)', object: xb({ protocol: 'HTTP2', tls: undefined }), expectErrors: [], expectWarnings: [W_HTTP2] },
  { name: 'xbackend warning: WSS with mode None', object: xb({ protocol: 'WSS', tls: { mode: 'None' } }), expectErrors: [], expectWarnings: [W_PLAINTEXT, W_WSS] },
  // structure (the CRD's OpenAPI schema)
  { name: 'xbackend schema: spec is required', object: makeXBackend(undefined), expectErrors: [e('spec', R)] },
  { name: 'xbackend schema: type and port are required', object: makeXBackend({ externalHostname: { hostname: 'api.openai.com' } }), expectErrors: [e('spec.type', R), e('spec.port', R)] },
  { name: 'xbackend schema: type is an enum (a Backend type pasted)', object: makeXBackend({ type: 'Fqdn', port: { port: 443 } }), expectErrors: [e('spec.type', NS)] },
  { name: 'xbackend schema: port out of range', object: xb({ port: { port: 0 } }), expectErrors: [e('spec.port.port', I)] },
  { name: 'xbackend schema: later port shape out of range', object: xb({ port: { number: 70000 } }), expectErrors: [e('spec.port.number', I)] },
  { name: 'xbackend schema: protocol outside the enum', object: xb({ protocol: 'HTTPS' }), expectErrors: [e('spec.protocol', NS)] },
  { name: 'xbackend schema: tls.mode is required', object: xb({ tls: { validation: { hostname: 'api.openai.com', wellKnownCACertificates: 'System' } } }), expectErrors: [e('spec.tls.mode', R)] },
  { name: 'xbackend schema: validation.hostname is required', object: validation({ hostname: undefined, wellKnownCACertificates: 'System' }), expectErrors: [e(`${V}.hostname`, R)] },
  { name: 'xbackend schema: at most 8 caCertificateRefs', object: validation({ caCertificateRefs: Array.from({ length: 9 }, (_, i) => ref(i)) }), expectErrors: [e(`${V}.caCertificateRefs`, TM)] },
  { name: 'xbackend schema: caCertificateRefs need group, kind and name', object: validation({ caCertificateRefs: [{ name: 'corp-ca' }] }), expectErrors: [e(`${V}.caCertificateRefs[0].group`, R), e(`${V}.caCertificateRefs[0].kind`, R)] },
  { name: 'xbackend schema: at most 5 subjectAltNames', object: san(...Array.from({ length: 6 }, (_, i) => ({ type: 'Hostname', hostname: `h${i}.openai.com` }))), expectErrors: [e(`${V}.subjectAltNames`, TM)] },
  { name: 'xbackend schema: wellKnownCACertificates pattern', object: validation({ wellKnownCACertificates: 'system' }), expectErrors: [e(`${V}.wellKnownCACertificates`, I)] },
  { name: 'xbackend schema: clientCertificateRef namespace pattern', object: xb({ tls: { mode: 'ClientAndServer', clientCertificateRef: { name: 'c', namespace: 'Team_B' }, validation: { hostname: 'api.openai.com', wellKnownCACertificates: 'System' } } }), expectErrors: [e('spec.tls.clientCertificateRef.namespace', I)] },
  { name: 'xbackend schema: empty hostname', object: host(''), expectErrors: [e(HOST, R)] },
  { name: 'xbackend schema: extension-free (spec.extensions is unknown)', object: xb({ extensions: [{ name: 'x', type: 'example.com/X' }] }), expectErrors: [e('spec.extensions', U)] },
  { name: 'xbackend schema: unknown field', object: xb({ timeout: '10s' }), expectErrors: [e('spec.timeout', U)] },
  // upstream CEL rules
  { name: 'xbackend CEL: externalHostname required for type ExternalHostname', object: xb({ externalHostname: undefined }), expectErrors: [e('spec.externalHostname', R)] },
  { name: 'xbackend CEL: externalHostname only for type ExternalHostname', object: makeXBackend({ type: 'Service', externalHostname: { hostname: 'api.openai.com' }, port: { port: 443 } }), expectErrors: [e('spec.type', NS), e('spec.externalHostname', F)] },
  { name: 'xbackend CEL: hostname must not end with .cluster.local', object: host('llm.models.svc.cluster.local'), expectErrors: [e(HOST, I)] },
  { name: 'xbackend CEL: .cluster.local refused even with another --cluster-domain', object: host('llm.models.svc.cluster.local'), options: { clusterDomain: 'corp.internal' }, expectErrors: [e(HOST, I)] },
  { name: 'xbackend CEL: port name must be a DNS label', object: xb({ port: { name: 'HTTPS', port: 443 } }), expectErrors: [e('spec.port.name', I)] },
  { name: 'xbackend CEL: ClientAndServer needs clientCertificateRef', object: xb({ tls: { mode: 'ClientAndServer', validation: { hostname: 'api.openai.com', wellKnownCACertificates: 'System' } } }), expectErrors: [e('spec.tls.clientCertificateRef', R)] },
  { name: 'xbackend CEL: clientCertificateRef only with ClientAndServer', object: xb({ tls: systemTls('api.openai.com', { clientCertificateRef: { name: 'client-cert' } }) }), expectErrors: [e('spec.tls.clientCertificateRef', F)] },
  { name: 'xbackend CEL: caCertificateRefs and wellKnownCACertificates together', object: validation({ caCertificateRefs: [ref(0)], wellKnownCACertificates: 'System' }), expectErrors: [e(`${V}.wellKnownCACertificates`, F)] },
  { name: 'xbackend CEL: one of caCertificateRefs or wellKnownCACertificates', object: validation({}), expectErrors: [e(V, R)] },
  { name: 'xbackend CEL: an empty caCertificateRefs list counts as none', object: validation({ caCertificateRefs: [] }), expectErrors: [e(V, R)] },
  { name: 'xbackend CEL: SAN type Hostname needs hostname', object: san({ type: 'Hostname' }), expectErrors: [e(`${V}.subjectAltNames[0].hostname`, R)] },
  { name: 'xbackend CEL: SAN type Hostname must not carry uri', object: san({ type: 'Hostname', hostname: 'api.openai.com', uri: 'spiffe://a/b' }), expectErrors: [e(`${V}.subjectAltNames[0].uri`, F)] },
  { name: 'xbackend CEL: SAN type URI needs uri', object: san({ type: 'URI' }), expectErrors: [e(`${V}.subjectAltNames[0].uri`, R)] },
  { name: 'xbackend CEL: SAN type URI must not carry hostname', object: san({ type: 'URI', uri: 'spiffe://a/b', hostname: 'api.openai.com' }), expectErrors: [e(`${V}.subjectAltNames[0].hostname`, F)] },
  // the webhook's own refusals
  { name: 'xbackend ours: an IPv4 literal is not a hostname', object: host('1.2.3.4'), expectErrors: [e(HOST, I)] },
  { name: 'xbackend ours: the cloud metadata address', object: host('169.254.169.254'), expectErrors: [e(HOST, I)] },
  { name: 'xbackend ours: no wildcard', object: host('*.openai.com'), expectErrors: [e(HOST, I)] },
  { name: 'xbackend ours: a hex spelling of the metadata address', object: host('0xa9.0xfe.0xa9.0xfe'), expectErrors: [e(HOST, I)] },
  { name: 'xbackend ours: an octal spelling of loopback', object: host('0177.0.0.1'), expectErrors: [e(HOST, I)] },
  { name: 'xbackend ours: a mixed spelling', object: host('169.254.169.0xfe'), expectErrors: [e(HOST, I)] },
  { name: 'xbackend ours: the multi-cluster Services domain', object: host('llm.models.svc.clusterset.local'), expectErrors: [e(HOST, I)] },
  { name: 'xbackend ours: a name whose first label is localhost', object: host('localhost.localdomain'), expectErrors: [e(HOST, I)] },
  { name: 'xbackend ours: localhost', object: host('localhost'), expectErrors: [e(HOST, I)] },
  { name: 'xbackend ours: *.svc', object: host('llm.models.svc'), expectErrors: [e(HOST, I)] },
  { name: 'xbackend ours: the configured cluster domain', object: host('llm.models.svc.corp.internal'), options: { clusterDomain: 'corp.internal' }, expectErrors: [e(HOST, I)] },
  { name: 'xbackend ours: a single label is not fully qualified', object: host('openai'), expectErrors: [e(HOST, I)] },
  { name: 'xbackend ours: upper case', object: host('API.openai.com'), expectErrors: [e(HOST, I)] },
  { name: 'xbackend ours: trailing dot', object: host('api.openai.com.'), expectErrors: [e(HOST, I)] },
  { name: 'xbackend ours: validation.hostname (the SNI) is not an IP', object: xb({ tls: systemTls('10.0.0.1') }), expectErrors: [e(`${V}.hostname`, I)] },
  { name: 'xbackend ours: Backend mode names get a hint', object: xb({ tls: systemTls('api.openai.com', { mode: 'Simple' }) }), expectErrors: [e('spec.tls.mode', NS)] },
  {
    name: 'xbackend ours: client certificate in another namespace',
    object: xb({ tls: { mode: 'ClientAndServer', clientCertificateRef: { name: 'client-cert', namespace: 'team-b' }, validation: { hostname: 'api.openai.com', wellKnownCACertificates: 'System' } } }),
    expectErrors: [e('spec.tls.clientCertificateRef.namespace', F)],
  },
  { name: 'xbackend ours: a port needs port (or number)', object: xb({ port: { name: 'https' } }), expectErrors: [e('spec.port.port', R)] },
  { name: 'xbackend ours: port and number together', object: xb({ port: { port: 443, number: 443 } }), expectErrors: [e('spec.port.number', F)] },
  // UPDATE: ratcheting
  { name: 'xbackend update: an unchanged bad hostname is ratcheted', operation: 'UPDATE', object: { ...host('1.2.3.4'), metadata: { name: 'openai', namespace: 'team-a', labels: { a: 'b' } } }, oldObject: host('1.2.3.4'), expectErrors: [], expectWarnings: [W_RATCHET] },
  { name: 'xbackend update: a changed bad hostname is denied', operation: 'UPDATE', object: host('169.254.169.254'), oldObject: host('api.openai.com'), expectErrors: [e(HOST, I)] },
];

// ---------------------------------------------------------------- BackendTLSPolicy

export function makeBackendTlsPolicy(targetRefs: unknown, version = 'v1', extraSpec: Obj = {}): Obj {
  return {
    apiVersion: `gateway.networking.k8s.io/${version}`,
    kind: 'BackendTLSPolicy',
    metadata: { name: 'tls', namespace: 'team-a' },
    spec: { targetRefs, validation: { hostname: 'api.openai.com', wellKnownCACertificates: 'System' }, ...extraSpec },
  };
}

const target = (group: string, kind: string, name = 'openai'): Obj => ({ group, kind, name });

export const BACKEND_TLS_POLICY_CASES: KindCase[] = [
  { name: 'btlsp valid: a Service target', object: makeBackendTlsPolicy([target('', 'Service', 'llm')]), expectErrors: [] },
  { name: 'btlsp valid: v1alpha3 with a Service target', object: makeBackendTlsPolicy([target('', 'Service', 'llm')], 'v1alpha3'), expectErrors: [] },
  { name: 'btlsp valid: another group\'s kind named Backend', object: makeBackendTlsPolicy([target('example.com', 'Backend')]), expectErrors: [] },
  { name: 'btlsp valid: an XBackendTrafficPolicy-like kind of the XBackend group', object: makeBackendTlsPolicy([target('gateway.networking.x-k8s.io', 'XMesh')]), expectErrors: [] },
  { name: 'btlsp valid: nothing else is judged (a policy the CRD would refuse)', object: makeBackendTlsPolicy([target('', 'Service')], 'v1', { validation: 'nonsense', bogus: 1 }), expectErrors: [] },
  { name: 'btlsp refused: a Backend target', object: makeBackendTlsPolicy([target('ainetworking.prototype.x-k8s.io', 'Backend')]), expectErrors: [e('spec.targetRefs[0]', F)] },
  { name: 'btlsp refused: an XBackendDestination target', object: makeBackendTlsPolicy([target('ainetworking.prototype.x-k8s.io', 'XBackendDestination')]), expectErrors: [e('spec.targetRefs[0]', F)] },
  { name: 'btlsp refused: any kind of the Backend group', object: makeBackendTlsPolicy([target('ainetworking.prototype.x-k8s.io', 'FutureKind')]), expectErrors: [e('spec.targetRefs[0]', F)] },
  { name: 'btlsp refused: an XBackend target', object: makeBackendTlsPolicy([target('gateway.networking.x-k8s.io', 'XBackend')]), expectErrors: [e('spec.targetRefs[0]', F)] },
  { name: 'btlsp refused: v1alpha3 with an XBackend target', object: makeBackendTlsPolicy([target('gateway.networking.x-k8s.io', 'XBackend')], 'v1alpha3'), expectErrors: [e('spec.targetRefs[0]', F)] },
  {
    name: 'btlsp refused: only the misdirected targets of several',
    object: makeBackendTlsPolicy([target('', 'Service', 'llm'), target('gateway.networking.x-k8s.io', 'XBackend'), target('ainetworking.prototype.x-k8s.io', 'Backend')]),
    expectErrors: [e('spec.targetRefs[1]', F), e('spec.targetRefs[2]', F)],
  },
  {
    name: 'btlsp update: an unchanged misdirected target is ratcheted',
    operation: 'UPDATE',
    object: { ...makeBackendTlsPolicy([target('gateway.networking.x-k8s.io', 'XBackend')]), metadata: { name: 'tls', namespace: 'team-a', finalizers: [] } },
    oldObject: makeBackendTlsPolicy([target('gateway.networking.x-k8s.io', 'XBackend')]),
    expectErrors: [],
    expectWarnings: [W_RATCHET],
  },
];

/** Both tables, for the tests that run every served kind. */
export const KIND_CASES: KindCase[] = [...XBACKEND_CASES, ...BACKEND_TLS_POLICY_CASES];
