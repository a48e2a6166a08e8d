/**
 * The rules table: valid and invalid Backends covering every rule of the spec, each with the full
 * list of expected errors (exact field path and type). Data only, so the same table runs through
 * the pure functions (validate.test.ts) and through the real HTTPS server (test/admission/).
 */
import type { FieldErrorType } from '../../src/backend/field-errors.js';
import type { ValidationOptions } from '../../src/backend/options.js';
import { compileExtensionSchema } from '../../src/schemas/compile.js';
import { MapSchemaLookup, type ExtensionSchema, type SchemaLookup } from '../../src/schemas/registry.js';
import { ReferenceGrantIndex } from '../../src/references/grants.js';

/** ReferenceGrants: team-a's Backends may use Secret client-cert in certs, and any ConfigMap in pki. */
export const GRANTS = ReferenceGrantIndex.fromObjects([
  {
    apiVersion: 'gateway.networking.k8s.io/v1beta1',
    kind: 'ReferenceGrant',
    metadata: { name: 'team-a-client-cert', namespace: 'certs' },
    spec: { from: [{ group: 'ainetworking.prototype.x-k8s.io', kind: 'Backend', namespace: 'team-a' }], to: [{ group: '', kind: 'Secret', name: 'client-cert' }] },
  },
  {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'ReferenceGrant',
    metadata: { name: 'team-a-cas', namespace: 'pki' },
    spec: { from: [{ group: 'ainetworking.prototype.x-k8s.io', kind: 'Backend', namespace: 'team-a' }], to: [{ group: '', kind: 'ConfigMap' }] },
  },
]);

export interface BackendCase {
  name: string;
  object: Record<string, unknown>;
  oldObject?: Record<string, unknown>;
  operation?: 'CREATE' | 'UPDATE';
  options?: Partial<ValidationOptions>;
  expectErrors: Array<{ field: string; type: FieldErrorType }>;
  /** Each pattern matches one warning; no other warnings are expected. */
  expectWarnings?: RegExp[];
}

// ---------------------------------------------------------------- extension schema fixture

export const CREDENTIAL_INJECTOR = 'gateway.networking.k8s.io/CredentialInjector:v1';
export const GUARDRAIL = 'guardrails.example.com/ContentFilter';

const EXTENSION_JSON_SCHEMAS: Record<string, object> = {
  [CREDENTIAL_INJECTOR]: {
    type: 'object',
    additionalProperties: false,
    required: ['secretRef'],
    properties: {
      secretRef: { type: 'object', additionalProperties: false, required: ['name'], properties: { name: { type: 'string', minLength: 1 } } },
      header: { type: 'string', maxLength: 64, pattern: '^[A-Za-z][A-Za-z0-9-]*$' },
      // A format (ajv-formats) and a pattern (RE2 or provably linear native): production compilation only.
      audience: { type: 'string', format: 'uri' },
    },
  },
  [GUARDRAIL]: {
    type: 'object',
    additionalProperties: false,
    properties: {
      categories: { type: 'array', maxItems: 3, items: { type: 'string', enum: ['hate', 'violence', 'self-harm', 'sexual'] } },
      threshold: { type: 'number', minimum: 0, maximum: 1 },
    },
  },
};

/** Compiled the way production compiles a registered schema (src/schemas/compile.ts: RE2 or linear native patterns, formats, limits). */
function compileFixture(): SchemaLookup {
  const byType = new Map<string, ExtensionSchema>();
  for (const [type, schema] of Object.entries(EXTENSION_JSON_SCHEMAS)) {
    const compiled = compileExtensionSchema(JSON.stringify(schema));
    if (!compiled.ok) throw new Error(`fixture schema for ${type} does not compile: ${compiled.error.message}`);
    byType.set(type, { type, origin: { kind: 'file', name: `${type}.json`, path: `fixture/${type}.json` }, validate: compiled.validate });
  }
  return new MapSchemaLookup(byType);
}

export const EXTENSION_SCHEMAS: SchemaLookup = compileFixture();

// ---------------------------------------------------------------- builders

export function makeBackend(spec: unknown, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'ainetworking.prototype.x-k8s.io/v0alpha0',
    kind: 'Backend',
    metadata: { name: 'openai', namespace: 'team-a' },
    spec,
    ...overrides,
  };
}

type Obj = Record<string, unknown>;
const port = (extra: Obj = {}): Obj => ({ number: 443, protocol: 'HTTP', ...extra });
const fqdn = (hostname: unknown, ports: unknown[] = [port({ tls: { mode: 'Simple' } })]): Obj => ({ type: 'Fqdn', fqdn: { hostname }, ports });
const ip = (address: unknown, ports: unknown[] = [port()]): Obj => ({ type: 'Ip', ip: { address }, ports });
const service = (svc: Obj = { name: 'llm', namespace: 'team-a' }, ports: unknown[] = [port()]): Obj => ({ type: 'Service', service: svc, ports });
/** A Backend with one destination (and optional extensions). */
const backend = (destination: unknown, extensions?: unknown): Obj => makeBackend(extensions === undefined ? { destination } : { destination, extensions });
/** A Service Backend whose only port carries `tls` (no Fqdn warnings in the way). */
const tlsBackend = (tls: unknown, extra: Obj = {}): Obj => backend(service(undefined, [port({ tls, ...extra })]));
const ext = (name: unknown, type: unknown, rawConfig?: unknown): Obj => (rawConfig === undefined ? { name, type } : { name, type, rawConfig });
const withExtensions = (...extensions: unknown[]): Obj => backend(service(), extensions);

/** Error-type shorthands for the tables (also used by test/kinds/cases.ts). */
export const R: FieldErrorType = 'FieldValueRequired';
export const I: FieldErrorType = 'FieldValueInvalid';
export const NS: FieldErrorType = 'FieldValueNotSupported';
export const F: FieldErrorType = 'FieldValueForbidden';
const D: FieldErrorType = 'FieldValueDuplicate';
const TL: FieldErrorType = 'FieldValueTooLong';
export const TM: FieldErrorType = 'FieldValueTooMany';
const TI: FieldErrorType = 'FieldValueTypeInvalid';
export const U: FieldErrorType = 'FieldValueUnknown';
export const e = (field: string, type: FieldErrorType): { field: string; type: FieldErrorType } => ({ field, type });

const DEST = 'spec.destination';
const PORT0 = `${DEST}.ports[0]`;
const TLS0 = `${PORT0}.tls`;
const MCP0 = `${PORT0}.protocolOptions.mcp`;
const HOST = `${DEST}.fqdn.hostname`;
const ADDR = `${DEST}.ip.address`;

const W_PLAINTEXT = /^spec\.destination\.ports\[\d+\]\.tls\.mode: None sends plaintext/;
const W_INSECURE = /insecureSkipVerify: true disables verification/;
const W_LEGACY = /^spec\.destination\.type: KubernetesService .*use Service/;
const W_NO_SCHEMA = /^spec\.extensions\[\d+\]\.type: no schema registered/;
const W_RATCHET = /^unchanged, so allowed: /;
const W_SVC_NS = /^spec\.destination\.service\.namespace: the upstream prototype ignores it and routes to the Backend's namespace, team-a$/;
const W_SAN_NO_CA = /^spec\.destination\.ports\[\d+\]\.tls\.subjectAltNames: without caBundleRef, Envoy rejects this SAN check and the whole update$/;
const W_URI_SAN = /^spec\.destination\.ports\[\d+\]\.tls\.subjectAltNames\[\d+\]: a URI; the upstream prototype matches DNS SANs only$/;
const CA = [{ kind: 'ConfigMap', name: 'ca' }];

const mcpPort = (mcp: unknown): Obj => port({ protocol: 'MCP', protocolOptions: { mcp } });
const repeat = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));

// ---------------------------------------------------------------- the table

const VALID: BackendCase[] = [
  { name: 'valid: Fqdn with Simple TLS and SNI', object: backend(fqdn('api.openai.com', [port({ tls: { mode: 'Simple', sni: 'api.openai.com' } })])), expectErrors: [] },
  { name: 'valid: Fqdn without tls (the mutating webhook defaults it)', object: backend(fqdn('api.openai.com', [port()])), expectErrors: [] },
  { name: 'valid: XBackendDestination kind', object: makeBackend({ destination: fqdn('api.anthropic.com') }, { kind: 'XBackendDestination' }), expectErrors: [] },
  { name: 'valid: hostname with digits and hyphens, 63-char label', object: backend(fqdn(`a-1.${'b'.repeat(63)}.example.io`)), expectErrors: [] },
  { name: 'valid: hostname of exactly 253 characters', object: backend(fqdn(`${repeat(3, () => 'a'.repeat(63)).join('.')}.${'b'.repeat(61)}`)), expectErrors: [] },
  { name: 'valid: public IPv4', object: backend(ip('8.8.8.8')), expectErrors: [] },
  { name: 'valid: private IPv4 10/8 (on-premises)', object: backend(ip('10.0.0.1')), expectErrors: [] },
  { name: 'valid: private IPv4 172.16/12', object: backend(ip('172.16.5.4')), expectErrors: [] },
  { name: 'valid: private IPv4 192.168/16', object: backend(ip('192.168.1.20')), expectErrors: [] },
  { name: 'valid: canonical IPv6', object: backend(ip('2001:db8::1')), expectErrors: [] },
  { name: 'valid: unique local IPv6 fc00::/7', object: backend(ip('fd12:3456::10')), expectErrors: [] },
  { name: 'valid: IPv4-mapped IPv6 of a public address', object: backend(ip('::ffff:8.8.4.4')), expectErrors: [] },
  { name: 'valid: Service with namespace', object: backend(service()), expectErrors: [] },
  { name: 'valid: Service without namespace', object: backend(service({ name: 'llm' })), expectErrors: [] },
  { name: 'valid: KubernetesService accepted as Service, with a warning', object: backend({ type: 'KubernetesService', service: { name: 'llm' }, ports: [port()] }), expectErrors: [], expectWarnings: [W_LEGACY] },
  { name: 'valid: every core protocol', object: backend(service(undefined, ['HTTP', 'HTTP2', 'TCP', 'MCP'].map((protocol, i) => port({ number: 8000 + i, protocol })))), expectErrors: [] },
  { name: 'valid: vendor protocol', object: backend(service(undefined, [port({ protocol: 'istio.io/a2a' })])), expectErrors: [] },
  { name: 'valid: 64 ports', object: backend(service(undefined, repeat(64, (i) => port({ number: 1000 + i })))), expectErrors: [] },
  { name: 'valid: port numbers 1 and 65535', object: backend(service(undefined, [port({ number: 1 }), port({ number: 65535 })])), expectErrors: [] },
  { name: 'valid: MCP with published version and path', object: backend(service(undefined, [mcpPort({ version: '2025-06-18', path: '/v1/mcp' })])), expectErrors: [] },
  { name: 'valid: MCP options without path (defaulted to /mcp)', object: backend(service(undefined, [mcpPort({})])), expectErrors: [] },
  { name: 'valid: MCP version from configured list', object: backend(service(undefined, [mcpPort({ version: '2027-01-15' })])), options: { mcpVersions: ['2027-01-15'] }, expectErrors: [] },
  { name: 'valid: MCP path "/" and percent-encoding', object: backend(service(undefined, [mcpPort({ path: '/a%20b/c:d@e/' }), port({ number: 80, protocol: 'MCP', protocolOptions: { mcp: { path: '/' } } })])), expectErrors: [] },
  { name: 'valid: Mutual with clientCertificateRef', object: tlsBackend({ mode: 'Mutual', clientCertificateRef: { name: 'client-cert' } }), expectErrors: [] },
  { name: 'valid: clientCertificateRef with explicit group, kind and namespace', object: tlsBackend({ mode: 'Mutual', clientCertificateRef: { group: '', kind: 'Secret', name: 'client-cert', namespace: 'team-a' } }), expectErrors: [] },
  // Revision 2: references into other namespaces need a ReferenceGrant there (issue 12.4).
  {
    name: 'invalid: clientCertificateRef in another namespace without a ReferenceGrant',
    object: tlsBackend({ mode: 'Mutual', clientCertificateRef: { name: 'client-cert', namespace: 'certs' } }),
    expectErrors: [{ field: 'spec.destination.ports[0].tls.clientCertificateRef.namespace', type: 'FieldValueForbidden' }],
  },
  {
    name: 'valid: clientCertificateRef in another namespace that a ReferenceGrant allows',
    object: tlsBackend({ mode: 'Mutual', clientCertificateRef: { name: 'client-cert', namespace: 'certs' } }),
    options: { referenceGrants: GRANTS },
    expectErrors: [],
  },
  {
    name: 'invalid: a ReferenceGrant for another name does not allow this one',
    object: tlsBackend({ mode: 'Mutual', clientCertificateRef: { name: 'other-cert', namespace: 'certs' } }),
    options: { referenceGrants: GRANTS },
    expectErrors: [{ field: 'spec.destination.ports[0].tls.clientCertificateRef.namespace', type: 'FieldValueForbidden' }],
  },
  {
    name: 'invalid: --cross-namespace-refs deny ignores ReferenceGrants',
    object: tlsBackend({ mode: 'Mutual', clientCertificateRef: { name: 'client-cert', namespace: 'certs' } }),
    options: { referenceGrants: GRANTS, crossNamespaceRefs: 'deny' },
    expectErrors: [{ field: 'spec.destination.ports[0].tls.clientCertificateRef.namespace', type: 'FieldValueForbidden' }],
  },
  {
    name: 'valid: --cross-namespace-refs allow',
    object: tlsBackend({ mode: 'Simple', caBundleRef: [{ kind: 'ConfigMap', name: 'ca', namespace: 'pki' }] }),
    options: { crossNamespaceRefs: 'allow' },
    expectErrors: [],
  },
  {
    name: 'invalid: caBundleRef ConfigMap and Secret in other namespaces (only the granted kind passes)',
    object: tlsBackend({ mode: 'Simple', caBundleRef: [{ kind: 'ConfigMap', name: 'ca', namespace: 'pki' }, { kind: 'Secret', name: 'ca', namespace: 'pki' }] }),
    options: { referenceGrants: GRANTS },
    expectErrors: [{ field: 'spec.destination.ports[0].tls.caBundleRef[1].namespace', type: 'FieldValueForbidden' }],
  },
  {
    name: 'valid: caBundleRef of every kind',
    object: tlsBackend({
      mode: 'Simple',
      caBundleRef: [
        { kind: 'ConfigMap', name: 'ca' },
        { group: '', kind: 'Secret', name: 'ca-secret', namespace: 'team-a' },
        { group: 'certificates.k8s.io', kind: 'ClusterTrustBundle', name: 'example.com:signer:bundle' },
      ],
    }),
    expectErrors: [],
  },
  { name: 'valid: 8 caBundleRefs', object: tlsBackend({ mode: 'Simple', caBundleRef: repeat(8, (i) => ({ kind: 'ConfigMap', name: `ca-${i}` })) }), expectErrors: [] },
  { name: 'valid: SNI of a cluster-internal name (TLS to a Service)', object: tlsBackend({ mode: 'Simple', sni: 'llm.models.svc.cluster.local' }), expectErrors: [] },
  {
    name: 'valid: subjectAltNames with DNS names, a wildcard and a URI (warned: no caBundleRef, URI)',
    object: tlsBackend({ mode: 'Simple', subjectAltNames: ['llm.example.com', '*.example.com', 'spiffe://cluster.local/ns/models/sa/llm'] }),
    expectErrors: [],
    expectWarnings: [W_SAN_NO_CA, W_URI_SAN],
  },
  { name: 'valid: subjectAltNames with a caBundleRef are silent', object: tlsBackend({ mode: 'Simple', caBundleRef: CA, subjectAltNames: ['llm.example.com', 'urn:example:llm'] }), expectErrors: [] },
  { name: 'valid: 16 subjectAltNames', object: tlsBackend({ mode: 'Simple', caBundleRef: CA, subjectAltNames: repeat(16, (i) => `llm-${i}.example.com`) }), expectErrors: [] },
  { name: 'valid: caBundleRef without kind means Secret', object: tlsBackend({ mode: 'Simple', caBundleRef: [{ name: 'ca' }, { group: '', name: 'ca-2', namespace: 'team-a' }] }), expectErrors: [] },
  { name: 'valid: hostnames starting with digits that no resolver reads as an address', object: backend(fqdn('1password.com', [port({ tls: { mode: 'Simple', sni: '08.0x1' } })])), expectErrors: [] },
  { name: 'valid: a hostname under clusterset.local when the internal domains are replaced', object: backend(fqdn('api.clusterset.local')), options: { internalDomains: ['corp.example'] }, expectErrors: [] },
  { name: 'valid: NAT64 and 6to4 forms of a public address', object: backend(ip('64:ff9b::808:808', [port(), port({ number: 80 })])), expectErrors: [] },
  { name: 'valid: 6to4 of a public address', object: backend(ip('2002:808:808::1')), expectErrors: [] },
  { name: 'valid: insecureSkipVerify true alone is allowed with a warning', object: tlsBackend({ mode: 'Simple', insecureSkipVerify: true }), expectErrors: [], expectWarnings: [W_INSECURE] },
  { name: 'valid: insecureSkipVerify false with caBundleRef', object: tlsBackend({ mode: 'Simple', insecureSkipVerify: false, caBundleRef: [{ kind: 'ConfigMap', name: 'ca' }] }), expectErrors: [] },
  { name: 'valid: mode None on an Fqdn destination warns', object: backend(fqdn('api.example.com', [port({ number: 80, tls: { mode: 'None' } })])), expectErrors: [], expectWarnings: [W_PLAINTEXT] },
  { name: 'valid: mode None on a Service destination is silent', object: tlsBackend({ mode: 'None' }), expectErrors: [] },
  { name: 'valid: extension with a registered schema', object: withExtensions(ext('inject', CREDENTIAL_INJECTOR, { secretRef: { name: 'openai-key' }, header: 'Authorization' })), expectErrors: [] },
  { name: 'valid: extension with enum categories', object: withExtensions(ext('filter', GUARDRAIL, { categories: ['hate', 'violence'], threshold: 0.5 })), expectErrors: [] },
  { name: 'valid: extension without rawConfig when its schema requires nothing', object: withExtensions(ext('filter', GUARDRAIL)), expectErrors: [] },
  { name: 'valid: unknown extension type with policy warn', object: withExtensions(ext('audit', 'example.com/AuditLog:v2', { level: 'full' })), options: { unknownExtensionPolicy: 'warn' }, expectErrors: [], expectWarnings: [W_NO_SCHEMA] },
  { name: 'valid: status is never judged', object: makeBackend({ destination: service() }, { status: { conditions: 'garbage', 'any field': [1, null] } }), expectErrors: [] },
  { name: 'valid: metadata is not judged here', object: makeBackend({ destination: service() }, { metadata: { name: 'x', finalizers: ['a/b'], labels: { a: 'b' } } }), expectErrors: [] },
  { name: 'valid: hostname under cluster.local is fine with another clusterDomain', object: backend(fqdn('api.cluster.local')), options: { clusterDomain: 'corp.internal' }, expectErrors: [] },
  { name: 'valid: extension type without version suffix', object: withExtensions(ext('filter', GUARDRAIL, {})), expectErrors: [] },
];

const STRUCTURE: BackendCase[] = [
  { name: 'spec missing', object: makeBackend(undefined), expectErrors: [e('spec', R)] },
  { name: 'spec not an object', object: makeBackend('fqdn'), expectErrors: [e('spec', TI)] },
  { name: 'destination missing', object: makeBackend({}), expectErrors: [e(DEST, R)] },
  { name: 'destination an array', object: makeBackend({ destination: [] }), expectErrors: [e(DEST, TI)] },
  { name: 'unknown field in spec', object: makeBackend({ destination: service(), timeout: '10s' }), expectErrors: [e('spec.timeout', U)] },
  { name: 'unknown top-level field', object: makeBackend({ destination: service() }, { data: {} }), expectErrors: [e('data', U)] },
  { name: 'unknown field in destination and in fqdn', object: backend({ ...fqdn('api.example.com'), weight: 1, fqdn: { hostname: 'api.example.com', port: 443 } }), expectErrors: [e(`${DEST}.weight`, U), e(`${DEST}.fqdn.port`, U)] },
  { name: 'unknown field in a port', object: backend(service(undefined, [port({ weight: 5 })])), expectErrors: [e(`${PORT0}.weight`, U)] },
  {
    name: 'Gateway API XBackend spec fields pasted into a Backend',
    object: makeBackend({ type: 'ExternalHostname', externalHostname: { hostname: 'api.example.com' }, port: { number: 443 }, protocol: 'HTTP11', tls: { mode: 'ServerOnly' }, destination: service() }),
    expectErrors: ['type', 'externalHostname', 'port', 'protocol', 'tls'].map((k) => e(`spec.${k}`, U)),
  },
  { name: 'type missing', object: backend({ service: { name: 'llm' }, ports: [port()] }), expectErrors: [e(`${DEST}.type`, R)] },
  { name: 'type not a string', object: backend({ type: 3, service: { name: 'llm' }, ports: [port()] }), expectErrors: [e(`${DEST}.type`, TI)] },
  { name: 'type unsupported', object: backend({ type: 'Dns', fqdn: { hostname: 'api.example.com' }, ports: [port()] }), expectErrors: [e(`${DEST}.type`, NS)] },
  { name: 'type in the wrong case', object: backend({ type: 'FQDN', fqdn: { hostname: 'api.example.com' }, ports: [port()] }), expectErrors: [e(`${DEST}.type`, NS)] },
  { name: 'one-of: Fqdn without fqdn', object: backend({ type: 'Fqdn', ports: [port()] }), expectErrors: [e(`${DEST}.fqdn`, R)] },
  { name: 'one-of: Fqdn with ip as well', object: backend({ ...fqdn('api.example.com'), ip: { address: '8.8.8.8' } }), expectErrors: [e(`${DEST}.ip`, F)] },
  { name: 'one-of: Ip with fqdn and service, without ip', object: backend({ type: 'Ip', fqdn: { hostname: 'a.example.com' }, service: { name: 'llm' }, ports: [port()] }), expectErrors: [e(`${DEST}.ip`, R), e(`${DEST}.fqdn`, F), e(`${DEST}.service`, F)] },
  { name: 'one-of: Service without service', object: backend({ type: 'Service', ip: { address: '8.8.8.8' }, ports: [port()] }), expectErrors: [e(`${DEST}.service`, R), e(`${DEST}.ip`, F)] },
  { name: 'one-of: KubernetesService without service', object: backend({ type: 'KubernetesService', ports: [port()] }), expectErrors: [e(`${DEST}.service`, R)], expectWarnings: [W_LEGACY] },
  { name: 'ports missing', object: backend({ type: 'Service', service: { name: 'llm' } }), expectErrors: [e(`${DEST}.ports`, R)] },
  { name: 'ports empty', object: backend(service(undefined, [])), expectErrors: [e(`${DEST}.ports`, R)] },
  { name: 'ports not an array', object: backend(service(undefined, { 0: port() } as unknown as unknown[])), expectErrors: [e(`${DEST}.ports`, TI)] },
  { name: '65 ports', object: backend(service(undefined, repeat(65, (i) => port({ number: 1000 + i })))), expectErrors: [e(`${DEST}.ports`, TM)] },
  { name: 'port entry not an object', object: backend(service(undefined, [port(), 'https'])), expectErrors: [e(`${DEST}.ports[1]`, TI)] },
  { name: 'extensions not an array', object: backend(service(), { inject: {} }), expectErrors: [e('spec.extensions', TI)] },
];

const HOSTNAMES: BackendCase[] = [
  { name: 'fqdn without hostname', object: backend({ type: 'Fqdn', fqdn: {}, ports: [port()] }), expectErrors: [e(HOST, R)] },
  { name: 'hostname empty', object: backend(fqdn('')), expectErrors: [e(HOST, R)] },
  { name: 'hostname not a string', object: backend(fqdn(42)), expectErrors: [e(HOST, TI)] },
  { name: 'hostname upper case', object: backend(fqdn('API.OpenAI.com')), expectErrors: [e(HOST, I)] },
  { name: 'hostname with trailing dot', object: backend(fqdn('api.openai.com.')), expectErrors: [e(HOST, I)] },
  { name: 'hostname wildcard', object: backend(fqdn('*.openai.com')), expectErrors: [e(HOST, I)] },
  { name: 'hostname single label', object: backend(fqdn('openai')), expectErrors: [e(HOST, I)] },
  { name: 'hostname IPv4 literal', object: backend(fqdn('10.0.0.1')), expectErrors: [e(HOST, I)] },
  { name: 'hostname IPv4 shorthand with leading zero', object: backend(fqdn('10.0.0.010')), expectErrors: [e(HOST, I)] },
  { name: 'hostname IPv6 literal', object: backend(fqdn('::1')), expectErrors: [e(HOST, I)] },
  { name: 'hostname label of 64 characters', object: backend(fqdn(`${'a'.repeat(64)}.example.com`)), expectErrors: [e(HOST, I)] },
  { name: 'hostname of 254 characters', object: backend(fqdn(`${repeat(3, () => 'a'.repeat(63)).join('.')}.${'b'.repeat(62)}`)), expectErrors: [e(HOST, TL)] },
  { name: 'hostname with underscore', object: backend(fqdn('my_api.example.com')), expectErrors: [e(HOST, I)] },
  { name: 'hostname label starting with a hyphen', object: backend(fqdn('-api.example.com')), expectErrors: [e(HOST, I)] },
  { name: 'hostname with an empty label', object: backend(fqdn('api..example.com')), expectErrors: [e(HOST, I)] },
  { name: 'hostname under the cluster domain', object: backend(fqdn('llm.models.svc.cluster.local')), expectErrors: [e(HOST, I)] },
  { name: 'hostname equal to the cluster domain', object: backend(fqdn('cluster.local')), expectErrors: [e(HOST, I)] },
  { name: 'hostname under a configured cluster domain', object: backend(fqdn('api.corp.internal')), options: { clusterDomain: 'corp.internal' }, expectErrors: [e(HOST, I)] },
  { name: 'hostname *.svc', object: backend(fqdn('kubernetes.default.svc')), expectErrors: [e(HOST, I)] },
  { name: 'hostname localhost', object: backend(fqdn('localhost')), expectErrors: [e(HOST, I)] },
  { name: 'hostname *.localhost', object: backend(fqdn('app.localhost')), expectErrors: [e(HOST, I)] },
  { name: 'hostname localhost.localdomain', object: backend(fqdn('localhost.localdomain')), expectErrors: [e(HOST, I)] },
  { name: 'hostname whose first label is localhost', object: backend(fqdn('localhost.example.com')), expectErrors: [e(HOST, I)] },
  { name: 'hostname localhost6.localdomain6', object: backend(fqdn('localhost6.localdomain6')), expectErrors: [e(HOST, I)] },
  { name: 'hostname under clusterset.local (multi-cluster Services)', object: backend(fqdn('llm.models.svc.clusterset.local')), expectErrors: [e(HOST, I)] },
  { name: 'hostname equal to clusterset.local', object: backend(fqdn('clusterset.local')), expectErrors: [e(HOST, I)] },
  { name: 'hostname under a configured internal domain', object: backend(fqdn('api.corp.example')), options: { internalDomains: ['corp.example'] }, expectErrors: [e(HOST, I)] },
  ...['0xa9.0xfe.0xa9.0xfe', '0251.0376.0251.0376', '127.0x1', '0x7f.0x1', '169.254.169.0xfe', '10.0x0a0001', '0XA9.0XFE.0XA9.0XFE', '2852039166', '127.1'].map(
    (hostname): BackendCase => ({ name: `hostname ${hostname} resolves as an IPv4 address`, object: backend(fqdn(hostname)), expectErrors: [e(HOST, I)] }),
  ),
  { name: 'sni 0x7f.0x1 resolves as an IPv4 address', object: tlsBackend({ mode: 'Simple', sni: '0x7f.0x1' }), expectErrors: [e(`${TLS0}.sni`, I)] },
  { name: 'sni 169.254.169.0xfe resolves as an IPv4 address', object: tlsBackend({ mode: 'Simple', sni: '169.254.169.0xfe' }), expectErrors: [e(`${TLS0}.sni`, I)] },
];

const ADDRESSES: BackendCase[] = [
  { name: 'ip without address', object: backend({ type: 'Ip', ip: {}, ports: [port()] }), expectErrors: [e(ADDR, R)] },
  { name: 'ip address empty', object: backend(ip('')), expectErrors: [e(ADDR, R)] },
  { name: 'ip address garbage', object: backend(ip('not-an-ip')), expectErrors: [e(ADDR, I)] },
  { name: 'ip address with three octets', object: backend(ip('10.0.1')), expectErrors: [e(ADDR, I)] },
  { name: 'ip address octet above 255', object: backend(ip('10.0.0.256')), expectErrors: [e(ADDR, I)] },
  { name: 'ip address with leading zeros (not canonical)', object: backend(ip('010.0.0.1')), expectErrors: [e(ADDR, I)] },
  { name: 'IPv6 in upper case (not canonical)', object: backend(ip('2001:DB8::1')), expectErrors: [e(ADDR, I)] },
  { name: 'IPv6 uncompressed (not canonical)', object: backend(ip('2001:db8:0:0:0:0:0:1')), expectErrors: [e(ADDR, I)] },
  { name: 'IPv6 with a zone', object: backend(ip('fe80::1%eth0')), expectErrors: [e(ADDR, I)] },
  { name: 'IPv4 with a prefix length', object: backend(ip('8.8.8.0/24')), expectErrors: [e(ADDR, I)] },
  ...[
    ['0.0.0.0', '0.0.0.0/8'],
    ['0.1.2.3', '0.0.0.0/8'],
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['169.254.169.254', 'cloud metadata'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['::', 'unspecified IPv6'],
    ['::1', 'IPv6 loopback'],
    ['fe80::1', 'IPv6 link-local'],
    ['febf::1', 'IPv6 link-local, top of fe80::/10'],
    ['ff02::1', 'IPv6 multicast'],
    ['::ffff:127.0.0.1', 'IPv4-mapped loopback'],
    ['::ffff:169.254.169.254', 'IPv4-mapped metadata address'],
  ].map(([address, why]): BackendCase => ({ name: `refused address ${address} (${why})`, object: backend(ip(address)), expectErrors: [e(ADDR, I)] })),
  ...[
    ['::127.0.0.1', 'IPv4-compatible loopback'],
    ['::a9fe:a9fe', 'IPv4-compatible metadata address'],
    ['64:ff9b::a9fe:a9fe', 'NAT64 of the metadata address'],
    ['64:ff9b::169.254.169.254', 'NAT64, dotted'],
    ['64:ff9b::7f00:1', 'NAT64 of loopback'],
    ['2002:a9fe:a9fe::', '6to4 of the metadata address'],
    ['2002:7f00:1::1', '6to4 of loopback'],
    ['::ffff:0:7f00:1', 'IPv4-translated loopback'],
    ['fd00:ec2::254', 'AWS IPv6 metadata address, refused by default'],
  ].map(([address, why]): BackendCase => ({ name: `refused address ${address} (${why})`, object: backend(ip(address)), expectErrors: [e(ADDR, I)] })),
  ...['127.1', '0x7f000001', 'api.example.com:443', 'https://api.example.com', '10.0.0.1:8080', '[2001:db8::1]:443', 'api.example.com'].map(
    (address): BackendCase => ({ name: `ip address ${address} is not an address (the message says what it is)`, object: backend(ip(address)), expectErrors: [e(ADDR, I)] }),
  ),
  { name: 'refused by configured CIDR (IPv4)', object: backend(ip('100.100.100.200')), options: { extraDeniedCidrs: ['100.100.100.200/32', 'fd00:ec2::254/128'] }, expectErrors: [e(ADDR, I)] },
  { name: 'refused by configured CIDR (IPv4-mapped)', object: backend(ip('::ffff:100.100.100.200')), options: { extraDeniedCidrs: ['100.100.100.200/32', 'fd00:ec2::254/128'] }, expectErrors: [e(ADDR, I)] },
  { name: 'refused by configured CIDR (IPv6)', object: backend(ip('fd00:ec2::254')), options: { extraDeniedCidrs: ['100.100.100.200/32', 'fd00:ec2::254/128'] }, expectErrors: [e(ADDR, I)] },
  { name: 'address outside the configured CIDRs', object: backend(ip('100.100.100.201')), options: { extraDeniedCidrs: ['100.100.100.200/32', 'fd00:ec2::254/128'] }, expectErrors: [] },
];

const SERVICES: BackendCase[] = [
  { name: 'service without name', object: backend(service({ namespace: 'team-a' })), expectErrors: [e(`${DEST}.service.name`, R)] },
  { name: 'service name upper case', object: backend(service({ name: 'LLM' })), expectErrors: [e(`${DEST}.service.name`, I)] },
  { name: 'service name starting with a digit (DNS-1035)', object: backend(service({ name: '1llm' })), expectErrors: [e(`${DEST}.service.name`, I)] },
  { name: 'service name with a dot', object: backend(service({ name: 'llm.models' })), expectErrors: [e(`${DEST}.service.name`, I)] },
  { name: 'service name of 64 characters', object: backend(service({ name: 'a'.repeat(64) })), expectErrors: [e(`${DEST}.service.name`, TL)] },
  { name: 'service namespace with underscore', object: backend(service({ name: 'llm', namespace: 'my_ns' })), expectErrors: [e(`${DEST}.service.namespace`, I)] },
  { name: 'service namespace starting with a digit is fine (DNS-1123), warned as another namespace', object: backend(service({ name: 'llm', namespace: '1models' })), expectErrors: [], expectWarnings: [W_SVC_NS] },
  { name: "service namespace other than the Backend's is warned", object: backend(service({ name: 'llm', namespace: 'models' })), expectErrors: [], expectWarnings: [W_SVC_NS] },
  { name: 'unknown field in service', object: backend(service({ name: 'llm', port: 80 })), expectErrors: [e(`${DEST}.service.port`, U)] },
];

const PORTS: BackendCase[] = [
  { name: 'port without number', object: backend(service(undefined, [{ protocol: 'HTTP' }])), expectErrors: [e(`${PORT0}.number`, R)] },
  { name: 'port number 0', object: backend(service(undefined, [port({ number: 0 })])), expectErrors: [e(`${PORT0}.number`, I)] },
  { name: 'port number 65536', object: backend(service(undefined, [port({ number: 65536 })])), expectErrors: [e(`${PORT0}.number`, I)] },
  { name: 'port number as a string', object: backend(service(undefined, [port({ number: '443' })])), expectErrors: [e(`${PORT0}.number`, TI)] },
  { name: 'port number not an integer', object: backend(service(undefined, [port({ number: 443.5 })])), expectErrors: [e(`${PORT0}.number`, TI)] },
  { name: 'duplicate port number reported at the later entry', object: backend(service(undefined, [port(), port({ protocol: 'TCP' })])), expectErrors: [e(`${DEST}.ports[1].number`, D)] },
  { name: 'three equal port numbers', object: backend(service(undefined, [port(), port({ number: 80 }), port(), port()])), expectErrors: [e(`${DEST}.ports[2].number`, D), e(`${DEST}.ports[3].number`, D)] },
  { name: 'port without protocol', object: backend(service(undefined, [{ number: 443 }])), expectErrors: [e(`${PORT0}.protocol`, R)] },
  { name: 'protocol empty', object: backend(service(undefined, [port({ protocol: '' })])), expectErrors: [e(`${PORT0}.protocol`, R)] },
  { name: 'protocol unprefixed and unknown', object: backend(service(undefined, [port({ protocol: 'UDP' })])), expectErrors: [e(`${PORT0}.protocol`, NS)] },
  { name: 'protocol in lower case', object: backend(service(undefined, [port({ protocol: 'http' })])), expectErrors: [e(`${PORT0}.protocol`, NS)] },
  ...['HTTP11', 'H2C', 'GRPC', 'WSS'].map((protocol): BackendCase => ({ name: `Gateway API XBackend protocol ${protocol} refused with a hint`, object: backend(service(undefined, [port({ protocol })])), expectErrors: [e(`${PORT0}.protocol`, NS)] })),
  { name: 'vendor protocol without name', object: backend(service(undefined, [port({ protocol: 'istio.io/' })])), expectErrors: [e(`${PORT0}.protocol`, I)] },
  { name: 'vendor protocol without prefix', object: backend(service(undefined, [port({ protocol: '/a2a' })])), expectErrors: [e(`${PORT0}.protocol`, I)] },
  { name: 'vendor protocol with upper-case prefix', object: backend(service(undefined, [port({ protocol: 'Istio.io/a2a' })])), expectErrors: [e(`${PORT0}.protocol`, I)] },
  { name: 'vendor protocol longer than 256', object: backend(service(undefined, [port({ protocol: `${'a'.repeat(250)}.io/a2a` })])), expectErrors: [e(`${PORT0}.protocol`, TL)] },
  { name: 'mcp options with protocol HTTP', object: backend(service(undefined, [port({ protocolOptions: { mcp: { path: '/mcp' } } })])), expectErrors: [e(MCP0, F)] },
  { name: 'mcp options with a vendor protocol', object: backend(service(undefined, [port({ protocol: 'istio.io/a2a', protocolOptions: { mcp: {} } })])), expectErrors: [e(MCP0, F)] },
  { name: 'protocolOptions with an undefined member', object: backend(service(undefined, [port({ protocol: 'MCP', protocolOptions: { mcp: {}, a2a: {} } })])), expectErrors: [e(`${PORT0}.protocolOptions.a2a`, U)] },
  { name: 'mcp version not a date', object: backend(service(undefined, [mcpPort({ version: 'latest' })])), expectErrors: [e(`${MCP0}.version`, I)] },
  { name: 'mcp version not a real calendar date', object: backend(service(undefined, [mcpPort({ version: '2025-02-30' })])), expectErrors: [e(`${MCP0}.version`, I)] },
  { name: 'mcp version without zero padding', object: backend(service(undefined, [mcpPort({ version: '2025-6-18' })])), expectErrors: [e(`${MCP0}.version`, I)] },
  { name: 'mcp version a real date but not published', object: backend(service(undefined, [mcpPort({ version: '2025-01-01' })])), expectErrors: [e(`${MCP0}.version`, NS)] },
  { name: 'mcp version published but not in the configured list', object: backend(service(undefined, [mcpPort({ version: '2025-06-18' })])), options: { mcpVersions: ['2027-01-15'] }, expectErrors: [e(`${MCP0}.version`, NS)] },
  { name: 'mcp path relative', object: backend(service(undefined, [mcpPort({ path: 'mcp' })])), expectErrors: [e(`${MCP0}.path`, I)] },
  { name: 'mcp path with a query', object: backend(service(undefined, [mcpPort({ path: '/mcp?key=1' })])), expectErrors: [e(`${MCP0}.path`, I)] },
  { name: 'mcp path with a fragment', object: backend(service(undefined, [mcpPort({ path: '/mcp#top' })])), expectErrors: [e(`${MCP0}.path`, I)] },
  { name: 'mcp path starting with //', object: backend(service(undefined, [mcpPort({ path: '//evil.example.com/mcp' })])), expectErrors: [e(`${MCP0}.path`, I)] },
  { name: 'mcp path with a space', object: backend(service(undefined, [mcpPort({ path: '/my mcp' })])), expectErrors: [e(`${MCP0}.path`, I)] },
  { name: 'mcp path longer than 1024', object: backend(service(undefined, [mcpPort({ path: `/${'a'.repeat(1024)}` })])), expectErrors: [e(`${MCP0}.path`, TL)] },
  { name: 'mcp path of exactly 1024 characters', object: backend(service(undefined, [mcpPort({ path: `/${'a'.repeat(1023)}` })])), expectErrors: [] },
  { name: 'unknown field in mcp', object: backend(service(undefined, [mcpPort({ timeout: '5s' })])), expectErrors: [e(`${MCP0}.timeout`, U)] },
];

const TLS: BackendCase[] = [
  { name: 'tls without mode', object: tlsBackend({ sni: 'llm.example.com' }), expectErrors: [e(`${TLS0}.mode`, R)] },
  { name: 'tls not an object', object: tlsBackend('Simple'), expectErrors: [e(TLS0, TI)] },
  ...['SIMPLE', 'MUTUAL', 'InsecureDisable', 'PlatformProvided', 'Passthrough', 'ServerOnly', 'ClientAndServer', 'simple', 'Strict', ''].map(
    (mode): BackendCase => ({ name: `tls mode ${JSON.stringify(mode)} refused`, object: tlsBackend({ mode }), expectErrors: [e(`${TLS0}.mode`, NS)] }),
  ),
  { name: 'unknown field in tls', object: tlsBackend({ mode: 'Simple', verifyDepth: 2 }), expectErrors: [e(`${TLS0}.verifyDepth`, U)] },
  { name: 'sni upper case', object: tlsBackend({ mode: 'Simple', sni: 'LLM.example.com' }), expectErrors: [e(`${TLS0}.sni`, I)] },
  { name: 'sni wildcard', object: tlsBackend({ mode: 'Simple', sni: '*.example.com' }), expectErrors: [e(`${TLS0}.sni`, I)] },
  { name: 'sni IP literal', object: tlsBackend({ mode: 'Simple', sni: '10.1.2.3' }), expectErrors: [e(`${TLS0}.sni`, I)] },
  { name: 'sni single label', object: tlsBackend({ mode: 'Simple', sni: 'llm' }), expectErrors: [e(`${TLS0}.sni`, I)] },
  { name: 'sni longer than 253', object: tlsBackend({ mode: 'Simple', sni: `${'a'.repeat(250)}.com` }), expectErrors: [e(`${TLS0}.sni`, TL)] },
  { name: 'sni with mode None', object: tlsBackend({ mode: 'None', sni: 'llm.example.com' }), expectErrors: [e(`${TLS0}.sni`, F)] },
  { name: 'caBundleRef with mode None', object: tlsBackend({ mode: 'None', caBundleRef: [{ kind: 'ConfigMap', name: 'ca' }] }), expectErrors: [e(`${TLS0}.caBundleRef`, F)] },
  { name: 'caBundleRef empty', object: tlsBackend({ mode: 'Simple', caBundleRef: [] }), expectErrors: [e(`${TLS0}.caBundleRef`, R)] },
  { name: 'caBundleRef with 9 entries', object: tlsBackend({ mode: 'Simple', caBundleRef: repeat(9, (i) => ({ kind: 'ConfigMap', name: `ca-${i}` })) }), expectErrors: [e(`${TLS0}.caBundleRef`, TM)] },
  { name: 'caBundleRef of an unsupported kind', object: tlsBackend({ mode: 'Simple', caBundleRef: [{ kind: 'Pod', name: 'ca' }] }), expectErrors: [e(`${TLS0}.caBundleRef[0].kind`, NS)] },
  { name: 'caBundleRef without kind and name: only the name is missing', object: tlsBackend({ mode: 'Simple', caBundleRef: [{ group: '' }] }), expectErrors: [e(`${TLS0}.caBundleRef[0].name`, R)] },
  { name: 'caBundleRef kind empty', object: tlsBackend({ mode: 'Simple', caBundleRef: [{ kind: '', name: 'ca' }] }), expectErrors: [e(`${TLS0}.caBundleRef[0].kind`, R)] },
  { name: 'caBundleRef kind not a kind name', object: tlsBackend({ mode: 'Simple', caBundleRef: [{ kind: 'Config Map', name: 'ca' }] }), expectErrors: [e(`${TLS0}.caBundleRef[0].kind`, I)] },
  { name: 'caBundleRef kind longer than 63', object: tlsBackend({ mode: 'Simple', caBundleRef: [{ kind: `K${'a'.repeat(63)}`, name: 'ca' }] }), expectErrors: [e(`${TLS0}.caBundleRef[0].kind`, TL)] },
  { name: 'caBundleRef group not a DNS subdomain', object: tlsBackend({ mode: 'Simple', caBundleRef: [{ group: 'Certificates.K8s.io', kind: 'ClusterTrustBundle', name: 'b' }] }), expectErrors: [e(`${TLS0}.caBundleRef[0].group`, I)] },
  { name: 'caBundleRef group longer than 253', object: tlsBackend({ mode: 'Simple', caBundleRef: [{ group: `${'a.'.repeat(126)}io`, kind: 'Secret', name: 'ca' }] }), expectErrors: [e(`${TLS0}.caBundleRef[0].group`, TL)] },
  { name: 'caBundleRef name longer than 253', object: tlsBackend({ mode: 'Simple', caBundleRef: [{ kind: 'Secret', name: 'a'.repeat(254) }] }), expectErrors: [e(`${TLS0}.caBundleRef[0].name`, TL)] },
  { name: 'caBundleRef namespace longer than 63', object: tlsBackend({ mode: 'Simple', caBundleRef: [{ kind: 'Secret', name: 'ca', namespace: 'a'.repeat(64) }] }), expectErrors: [e(`${TLS0}.caBundleRef[0].namespace`, TL)] },
  { name: 'caBundleRef ConfigMap in a non-core group', object: tlsBackend({ mode: 'Simple', caBundleRef: [{ group: 'v1', kind: 'ConfigMap', name: 'ca' }] }), expectErrors: [e(`${TLS0}.caBundleRef[0].group`, NS)] },
  { name: 'caBundleRef Secret with an invalid name', object: tlsBackend({ mode: 'Simple', caBundleRef: [{ kind: 'Secret', name: 'My_CA' }] }), expectErrors: [e(`${TLS0}.caBundleRef[0].name`, I)] },
  { name: 'caBundleRef with an invalid namespace', object: tlsBackend({ mode: 'Simple', caBundleRef: [{ kind: 'Secret', name: 'ca', namespace: 'PKI' }] }), expectErrors: [e(`${TLS0}.caBundleRef[0].namespace`, I)] },
  { name: 'ClusterTrustBundle without group', object: tlsBackend({ mode: 'Simple', caBundleRef: [{ kind: 'ClusterTrustBundle', name: 'bundle' }] }), expectErrors: [e(`${TLS0}.caBundleRef[0].group`, R)] },
  { name: 'ClusterTrustBundle in the core group', object: tlsBackend({ mode: 'Simple', caBundleRef: [{ group: '', kind: 'ClusterTrustBundle', name: 'bundle' }] }), expectErrors: [e(`${TLS0}.caBundleRef[0].group`, NS)] },
  {
    name: 'ClusterTrustBundle with a namespace',
    object: tlsBackend({ mode: 'Simple', caBundleRef: [{ group: 'certificates.k8s.io', kind: 'ClusterTrustBundle', name: 'bundle', namespace: 'pki' }] }),
    expectErrors: [e(`${TLS0}.caBundleRef[0].namespace`, F)],
  },
  { name: 'unknown field in caBundleRef', object: tlsBackend({ mode: 'Simple', caBundleRef: [{ kind: 'ConfigMap', name: 'ca', key: 'ca.crt' }] }), expectErrors: [e(`${TLS0}.caBundleRef[0].key`, U)] },
  { name: 'Mutual without clientCertificateRef', object: tlsBackend({ mode: 'Mutual' }), expectErrors: [e(`${TLS0}.clientCertificateRef`, R)] },
  { name: 'clientCertificateRef with Simple', object: tlsBackend({ mode: 'Simple', clientCertificateRef: { name: 'client' } }), expectErrors: [e(`${TLS0}.clientCertificateRef`, F)] },
  { name: 'clientCertificateRef with None', object: tlsBackend({ mode: 'None', clientCertificateRef: { name: 'client' } }), expectErrors: [e(`${TLS0}.clientCertificateRef`, F)] },
  { name: 'clientCertificateRef of kind ConfigMap', object: tlsBackend({ mode: 'Mutual', clientCertificateRef: { kind: 'ConfigMap', name: 'client' } }), expectErrors: [e(`${TLS0}.clientCertificateRef.kind`, NS)] },
  { name: 'clientCertificateRef in a group', object: tlsBackend({ mode: 'Mutual', clientCertificateRef: { group: 'core', name: 'client' } }), expectErrors: [e(`${TLS0}.clientCertificateRef.group`, NS)] },
  { name: 'clientCertificateRef kind not a kind name', object: tlsBackend({ mode: 'Mutual', clientCertificateRef: { kind: '9Secret', name: 'client' } }), expectErrors: [e(`${TLS0}.clientCertificateRef.kind`, I)] },
  { name: 'clientCertificateRef kind empty', object: tlsBackend({ mode: 'Mutual', clientCertificateRef: { kind: '', name: 'client' } }), expectErrors: [e(`${TLS0}.clientCertificateRef.kind`, R)] },
  { name: 'clientCertificateRef group not a DNS subdomain', object: tlsBackend({ mode: 'Mutual', clientCertificateRef: { group: 'core/v1', name: 'client' } }), expectErrors: [e(`${TLS0}.clientCertificateRef.group`, I)] },
  { name: 'clientCertificateRef namespace not a DNS-1123 label', object: tlsBackend({ mode: 'Mutual', clientCertificateRef: { name: 'client', namespace: 'Certs' } }), expectErrors: [e(`${TLS0}.clientCertificateRef.namespace`, I)] },
  { name: 'clientCertificateRef without name', object: tlsBackend({ mode: 'Mutual', clientCertificateRef: { kind: 'Secret' } }), expectErrors: [e(`${TLS0}.clientCertificateRef.name`, R)] },
  { name: 'clientCertificateRef with an invalid name', object: tlsBackend({ mode: 'Mutual', clientCertificateRef: { name: 'Client Cert' } }), expectErrors: [e(`${TLS0}.clientCertificateRef.name`, I)] },
  { name: 'insecureSkipVerify with mode None', object: tlsBackend({ mode: 'None', insecureSkipVerify: true }), expectErrors: [e(`${TLS0}.insecureSkipVerify`, F)], expectWarnings: [W_INSECURE] },
  { name: 'insecureSkipVerify false with mode None', object: tlsBackend({ mode: 'None', insecureSkipVerify: false }), expectErrors: [e(`${TLS0}.insecureSkipVerify`, F)] },
  { name: 'insecureSkipVerify with caBundleRef', object: tlsBackend({ mode: 'Simple', insecureSkipVerify: true, caBundleRef: [{ kind: 'ConfigMap', name: 'ca' }] }), expectErrors: [e(`${TLS0}.insecureSkipVerify`, F)], expectWarnings: [W_INSECURE] },
  { name: 'insecureSkipVerify with subjectAltNames', object: tlsBackend({ mode: 'Mutual', clientCertificateRef: { name: 'c' }, insecureSkipVerify: true, subjectAltNames: ['llm.example.com'] }), expectErrors: [e(`${TLS0}.insecureSkipVerify`, F)], expectWarnings: [W_INSECURE] },
  { name: 'insecureSkipVerify as a string', object: tlsBackend({ mode: 'Simple', insecureSkipVerify: 'true' }), expectErrors: [e(`${TLS0}.insecureSkipVerify`, TI)] },
  { name: 'subjectAltNames with mode None', object: tlsBackend({ mode: 'None', subjectAltNames: ['llm.example.com'] }), expectErrors: [e(`${TLS0}.subjectAltNames`, F)] },
  { name: 'subjectAltNames entry neither DNS name nor URI', object: tlsBackend({ mode: 'Simple', caBundleRef: CA, subjectAltNames: ['llm.example.com', 'Not A Name'] }), expectErrors: [e(`${TLS0}.subjectAltNames[1]`, I)] },
  { name: 'subjectAltNames entry not a string', object: tlsBackend({ mode: 'Simple', caBundleRef: CA, subjectAltNames: [7] }), expectErrors: [e(`${TLS0}.subjectAltNames[0]`, TI)] },
  { name: '17 subjectAltNames', object: tlsBackend({ mode: 'Simple', caBundleRef: CA, subjectAltNames: repeat(17, (i) => `llm-${i}.example.com`) }), expectErrors: [e(`${TLS0}.subjectAltNames`, TM)] },
  { name: 'Gateway API XBackend tls.validation pasted into a port', object: tlsBackend({ mode: 'Simple', validation: { hostname: 'llm.example.com', wellKnownCACertificates: 'System' } }), expectErrors: [e(`${TLS0}.validation`, U)] },
  {
    name: 'mode None with every TLS field: each refused at its own path',
    object: backend(fqdn('api.example.com', [port({ tls: { mode: 'None', sni: 'a.example.com', caBundleRef: [{ kind: 'ConfigMap', name: 'ca' }], clientCertificateRef: { name: 'c' }, insecureSkipVerify: true, subjectAltNames: ['a.example.com'] } })])),
    expectErrors: ['sni', 'caBundleRef', 'clientCertificateRef', 'insecureSkipVerify', 'subjectAltNames'].map((k) => e(`${TLS0}.${k}`, F)),
    expectWarnings: [W_PLAINTEXT, W_INSECURE],
  },
];

const EXTENSIONS: BackendCase[] = [
  { name: 'extension without name and type', object: withExtensions({}), expectErrors: [e('spec.extensions[0].name', R), e('spec.extensions[0].type', R)] },
  { name: 'extension name not a DNS-1123 label', object: withExtensions(ext('Inject_Key', CREDENTIAL_INJECTOR, { secretRef: { name: 'k' } })), expectErrors: [e('spec.extensions[0].name', I)] },
  { name: 'extension name of 64 characters', object: withExtensions(ext('a'.repeat(64), GUARDRAIL)), expectErrors: [e('spec.extensions[0].name', TL)] },
  { name: 'duplicate extension name reported at the later entry', object: withExtensions(ext('filter', GUARDRAIL), ext('other', GUARDRAIL), ext('filter', GUARDRAIL)), expectErrors: [e('spec.extensions[2].name', D)] },
  { name: 'extension type without a prefix', object: withExtensions(ext('inject', 'CredentialInjector')), expectErrors: [e('spec.extensions[0].type', I)] },
  { name: 'extension type with a lower-case kind', object: withExtensions(ext('inject', 'example.com/credentialInjector')), expectErrors: [e('spec.extensions[0].type', I)] },
  { name: 'extension type with a bad version suffix', object: withExtensions(ext('inject', 'example.com/CredentialInjector:1')), expectErrors: [e('spec.extensions[0].type', I)] },
  { name: 'extension type with no registered schema (policy deny)', object: withExtensions(ext('audit', 'example.com/AuditLog:v2', { level: 'full' })), expectErrors: [e('spec.extensions[0].type', NS)] },
  { name: 'extension type differing only in version is not registered', object: withExtensions(ext('inject', 'gateway.networking.k8s.io/CredentialInjector:v2', { secretRef: { name: 'k' } })), expectErrors: [e('spec.extensions[0].type', NS)] },
  { name: 'unknown field in an extension', object: withExtensions({ ...ext('filter', GUARDRAIL), config: {} }), expectErrors: [e('spec.extensions[0].config', U)] },
  { name: 'rawConfig not an object', object: withExtensions(ext('filter', GUARDRAIL, ['hate'])), expectErrors: [e('spec.extensions[0].rawConfig', TI)] },
  { name: 'rawConfig missing a required property: reported at the object', object: withExtensions(ext('inject', CREDENTIAL_INJECTOR, { header: 'X-Key' })), expectErrors: [e('spec.extensions[0].rawConfig', R)] },
  { name: 'rawConfig absent while the schema requires a property', object: withExtensions(ext('inject', CREDENTIAL_INJECTOR)), expectErrors: [e('spec.extensions[0].rawConfig', R)] },
  { name: 'rawConfig nested object missing a required property', object: withExtensions(ext('inject', CREDENTIAL_INJECTOR, { secretRef: {} })), expectErrors: [e('spec.extensions[0].rawConfig/secretRef', R)] },
  { name: 'rawConfig enum violation at its JSON pointer', object: withExtensions(ext('filter', GUARDRAIL, { categories: ['hate', 'spam'] })), expectErrors: [e('spec.extensions[0].rawConfig/categories/1', NS)] },
  { name: 'rawConfig unknown property', object: withExtensions(ext('inject', CREDENTIAL_INJECTOR, { secretRef: { name: 'k' }, extra: true })), expectErrors: [e('spec.extensions[0].rawConfig/extra', U)] },
  { name: 'rawConfig wrong type', object: withExtensions(ext('filter', GUARDRAIL, { threshold: 'high' })), expectErrors: [e('spec.extensions[0].rawConfig/threshold', TI)] },
  { name: 'rawConfig number out of range', object: withExtensions(ext('filter', GUARDRAIL, { threshold: 2 })), expectErrors: [e('spec.extensions[0].rawConfig/threshold', I)] },
  { name: 'rawConfig too many items', object: withExtensions(ext('filter', GUARDRAIL, { categories: ['hate', 'violence', 'sexual', 'self-harm'] })), expectErrors: [e('spec.extensions[0].rawConfig/categories', TM)] },
  { name: 'rawConfig string not matching its pattern', object: withExtensions(ext('inject', CREDENTIAL_INJECTOR, { secretRef: { name: 'k' }, header: 'X Key' })), expectErrors: [e('spec.extensions[0].rawConfig/header', I)] },
  { name: 'rawConfig string not in its format', object: withExtensions(ext('inject', CREDENTIAL_INJECTOR, { secretRef: { name: 'k' }, audience: 'not a uri' })), expectErrors: [e('spec.extensions[0].rawConfig/audience', I)] },
  { name: 'valid: rawConfig string in its format', object: withExtensions(ext('inject', CREDENTIAL_INJECTOR, { secretRef: { name: 'k' }, audience: 'https://api.openai.com/v1' })), expectErrors: [] },
  { name: 'rawConfig string too long', object: withExtensions(ext('inject', CREDENTIAL_INJECTOR, { secretRef: { name: 'k' }, header: 'h'.repeat(65) })), expectErrors: [e('spec.extensions[0].rawConfig/header', TL)] },
  {
    name: 'rawConfig errors in two extensions, each under its own index',
    object: withExtensions(ext('filter', GUARDRAIL, { categories: ['spam'] }), ext('inject', CREDENTIAL_INJECTOR, { secretRef: { name: '' } })),
    expectErrors: [e('spec.extensions[0].rawConfig/categories/0', NS), e('spec.extensions[1].rawConfig/secretRef/name', R)],
  },
];

const BROKEN_IP = backend(ip('127.0.0.1'));
const OLD_ORPHAN = withExtensions(ext('audit', 'example.com/AuditLog:v1', { level: 'full' }));
const withoutFinalizer = (o: Obj): Obj => ({ ...o, metadata: { name: 'openai', namespace: 'team-a' } });
const withFinalizer = (o: Obj): Obj => ({ ...o, metadata: { name: 'openai', namespace: 'team-a', finalizers: ['example.com/cleanup'] } });

const RATCHETING: BackendCase[] = [
  { name: 'ratcheting: unchanged refused address is a warning on UPDATE', operation: 'UPDATE', object: withoutFinalizer(BROKEN_IP), oldObject: withFinalizer(BROKEN_IP), expectErrors: [], expectWarnings: [W_RATCHET] },
  { name: 'ratcheting: does not apply to CREATE', operation: 'CREATE', object: BROKEN_IP, oldObject: BROKEN_IP, expectErrors: [e(ADDR, I)] },
  { name: 'ratcheting: a changed value is judged in full', operation: 'UPDATE', object: backend(ip('169.254.169.254')), oldObject: BROKEN_IP, expectErrors: [e(ADDR, I)] },
  { name: 'ratcheting: extension whose schema was removed, metadata-only update', operation: 'UPDATE', object: withoutFinalizer(OLD_ORPHAN), oldObject: withFinalizer(OLD_ORPHAN), expectErrors: [], expectWarnings: [W_RATCHET] },
  {
    name: 'ratcheting: a changed rawConfig of an unregistered type is judged',
    operation: 'UPDATE',
    object: withExtensions(ext('audit', 'example.com/AuditLog:v1', { level: 'none' })),
    oldObject: OLD_ORPHAN,
    expectErrors: [e('spec.extensions[0].type', NS)],
  },
  {
    name: 'ratcheting: a new duplicate port is judged, the old unknown field is not',
    operation: 'UPDATE',
    object: backend({ ...service(undefined, [port(), port()]), weight: 1 }),
    oldObject: backend({ ...service(undefined, [port()]), weight: 1 }),
    expectErrors: [e(`${DEST}.ports[1].number`, D)],
    expectWarnings: [W_RATCHET],
  },
  {
    name: 'ratcheting: mode changed to None with an unchanged caBundleRef is judged',
    operation: 'UPDATE',
    object: tlsBackend({ mode: 'None', caBundleRef: [{ kind: 'ConfigMap', name: 'ca' }] }),
    oldObject: tlsBackend({ mode: 'Simple', caBundleRef: [{ kind: 'ConfigMap', name: 'ca' }] }),
    expectErrors: [e(`${TLS0}.caBundleRef`, F)],
  },
  {
    name: 'ratcheting: a new port missing its number is judged',
    operation: 'UPDATE',
    object: backend(service(undefined, [port(), { protocol: 'TCP' }])),
    oldObject: backend(service(undefined, [port()])),
    expectErrors: [e(`${DEST}.ports[1].number`, R)],
  },
  {
    name: 'ratcheting: a stored unused ip is judged in full once type points at it (Fqdn -> Ip)',
    operation: 'UPDATE',
    object: backend(ip('169.254.169.254')),
    oldObject: backend({ ...fqdn('api.example.com'), ip: { address: '169.254.169.254' } }),
    expectErrors: [e(ADDR, I)],
  },
  {
    name: 'ratcheting: the stored unused ip of an unchanged Fqdn Backend stays a warning',
    operation: 'UPDATE',
    object: withoutFinalizer(backend({ ...fqdn('api.example.com'), ip: { address: '169.254.169.254' } })),
    oldObject: withFinalizer(backend({ ...fqdn('api.example.com'), ip: { address: '169.254.169.254' } })),
    expectErrors: [],
    expectWarnings: [W_RATCHET],
  },
  {
    name: 'ratcheting: a stored unused service is judged in full once type points at it (Ip -> Service)',
    operation: 'UPDATE',
    object: backend(service({ name: 'LLM' })),
    oldObject: backend({ ...ip('8.8.8.8'), service: { name: 'LLM' } }),
    expectErrors: [e(`${DEST}.service.name`, I)],
  },
  {
    name: 'ratcheting: mode None -> Simple judges the unchanged caBundleRef in full',
    operation: 'UPDATE',
    object: tlsBackend({ mode: 'Simple', caBundleRef: [{ kind: 'Secret', name: 'My_CA' }] }),
    oldObject: tlsBackend({ mode: 'None', caBundleRef: [{ kind: 'Secret', name: 'My_CA' }] }),
    expectErrors: [e(`${TLS0}.caBundleRef[0].name`, I)],
  },
  {
    name: 'ratcheting: mode None -> Simple judges the unchanged subjectAltNames in full',
    operation: 'UPDATE',
    object: tlsBackend({ mode: 'Simple', caBundleRef: CA, subjectAltNames: ['Not A Name'] }),
    oldObject: tlsBackend({ mode: 'None', caBundleRef: CA, subjectAltNames: ['Not A Name'] }),
    expectErrors: [e(`${TLS0}.subjectAltNames[0]`, I)],
  },
  {
    name: 'ratcheting: mode None -> Mutual judges the unchanged clientCertificateRef in full',
    operation: 'UPDATE',
    object: tlsBackend({ mode: 'Mutual', clientCertificateRef: { name: 'Client Cert' } }),
    oldObject: tlsBackend({ mode: 'None', clientCertificateRef: { name: 'Client Cert' } }),
    expectErrors: [e(`${TLS0}.clientCertificateRef.name`, I)],
  },
  {
    name: 'ratcheting: mode Simple -> Mutual keeps an unchanged problem the old mode had too',
    operation: 'UPDATE',
    object: tlsBackend({ mode: 'Mutual', clientCertificateRef: { name: 'client' }, caBundleRef: [{ kind: 'Secret', name: 'My_CA' }] }),
    oldObject: tlsBackend({ mode: 'Simple', caBundleRef: [{ kind: 'Secret', name: 'My_CA' }] }),
    expectErrors: [],
    expectWarnings: [W_RATCHET],
  },
  { name: 'ratcheting: without an oldObject, UPDATE is judged in full', operation: 'UPDATE', object: BROKEN_IP, expectErrors: [e(ADDR, I)] },
];

export const BACKEND_CASES: BackendCase[] = [...VALID, ...STRUCTURE, ...HOSTNAMES, ...ADDRESSES, ...SERVICES, ...PORTS, ...TLS, ...EXTENSIONS, ...RATCHETING];
