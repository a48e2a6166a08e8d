/**
 * fast-check generators for Backend specs and AdmissionReview bodies. Each field is usually drawn
 * from values near the spec's rules (valid, almost valid, old spellings) and sometimes replaced by
 * arbitrary JSON, so generated objects cover the well-formed, the subtly wrong and the garbage.
 */
import fc from 'fast-check';
import { GROUP, VERSION } from '../support/reviews.js';
import { TOOL_FILTER_TYPE } from './helpers.js';

/** Mostly `arb`, sometimes any JSON value at all. */
export const orGarbage = <T>(arb: fc.Arbitrary<T>, garbageWeight = 1): fc.Arbitrary<unknown> =>
  fc.oneof({ weight: 12, arbitrary: arb as fc.Arbitrary<unknown> }, { weight: garbageWeight, arbitrary: fc.jsonValue({ maxDepth: 3 }) });

/** An object record where each key is optional; garbage fields are sometimes added too. */
function looseRecord(model: Record<string, fc.Arbitrary<unknown>>, required: string[] = []): fc.Arbitrary<Record<string, unknown>> {
  const record = fc.record(model, { requiredKeys: required });
  return fc
    .tuple(record, fc.option(fc.dictionary(fc.constantFrom('timeout', 'extra', 'Mode', 'tlsMode', 'x'), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 2 }), { freq: 8 }))
    .map(([r, extra]) => (extra ? { ...extra, ...r } : r));
}

const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/);

export const hostnameArb = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('api.openai.com', 'example.com', 'a.b.c.example.org', 'x1.io') },
  { weight: 3, arbitrary: fc.domain() },
  { weight: 2, arbitrary: fc.constantFrom('localhost', 'kube-dns.kube-system.svc', 'svc.cluster.local', 'API.OpenAI.com', '*.example.com', 'example.com.', '10.0.0.1', '10.0.0.010', 'x', '-a.com', 'a..b') },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
);

export const ipArb = fc.oneof(
  fc.ipV4(),
  fc.ipV6(),
  fc.constantFrom('169.254.169.254', '127.0.0.1', '0.0.0.0', '::1', '::', 'fe80::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1', '10.1.2.3', '224.0.0.1', '255.255.255.255', '192.168.001.1', '1.2.3'),
);

const mcpVersion = fc.oneof(fc.constantFrom('2024-11-05', '2025-03-26', '2025-06-18', '2025-11-25', '2026-07-28', '2025-02-30', '2025-13-01', 'latest'), fc.date({ noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)));
const mcpPath = fc.oneof(fc.constantFrom('/mcp', '/v1/mcp', 'mcp', '/a?b', '/a#b', ''), fc.webPath());

const protocolOptionsArb = fc.oneof(
  looseRecord({ mcp: orGarbage(looseRecord({ version: orGarbage(mcpVersion), path: orGarbage(mcpPath) })) }),
  fc.constant({}),
  fc.constant({ mcp: {}, other: {} }),
);

const ref = (kinds: string[]) =>
  looseRecord(
    {
      group: fc.constantFrom('', 'certificates.k8s.io', 'x.io'),
      kind: fc.constantFrom(...kinds),
      name: orGarbage(label),
      namespace: orGarbage(label),
    },
    ['name'],
  );

export const tlsArb = looseRecord(
  {
    mode: orGarbage(fc.constantFrom('Simple', 'Mutual', 'None', 'SIMPLE', 'MUTUAL', 'InsecureDisable', 'PlatformProvided', 'Passthrough', 'ServerOnly', 'ClientAndServer', 'simple')),
    sni: orGarbage(hostnameArb),
    caBundleRef: orGarbage(fc.array(ref(['ConfigMap', 'Secret', 'ClusterTrustBundle', 'Pod']), { maxLength: 9 })),
    clientCertificateRef: orGarbage(ref(['Secret', 'ConfigMap'])),
    insecureSkipVerify: orGarbage(fc.boolean()),
    subjectAltNames: orGarbage(fc.array(fc.oneof(hostnameArb, fc.webUrl()), { maxLength: 3 })),
  },
  ['mode'],
);

export const portArb = looseRecord(
  {
    number: orGarbage(fc.oneof({ weight: 5, arbitrary: fc.constantFrom(443, 8443, 80, 1, 65535) }, { weight: 3, arbitrary: fc.integer({ min: 1, max: 65535 }) }, { weight: 1, arbitrary: fc.constantFrom(0, 65536, -1, 1.5) })),
    protocol: orGarbage(fc.constantFrom('HTTP', 'HTTP2', 'TCP', 'MCP', 'istio.io/a2a', 'http', 'GRPC', 'a/b/c', 'Example.com/x')),
    tls: orGarbage(tlsArb),
    protocolOptions: orGarbage(protocolOptionsArb),
  },
  ['number', 'protocol'],
);

const destinationArb = fc
  .record({
    type: orGarbage(fc.constantFrom('Fqdn', 'Ip', 'Service', 'KubernetesService', 'FQDN', 'Dns')),
    fqdn: fc.option(orGarbage(looseRecord({ hostname: orGarbage(hostnameArb) }, ['hostname'])), { freq: 3 }),
    ip: fc.option(orGarbage(looseRecord({ address: orGarbage(ipArb) }, ['address'])), { freq: 2 }),
    service: fc.option(orGarbage(looseRecord({ name: orGarbage(label), namespace: orGarbage(label) }, ['name'])), { freq: 2 }),
    ports: orGarbage(fc.array(portArb, { minLength: 0, maxLength: 5 })),
  })
  .map((d) => {
    // Drop absent members rather than sending explicit nulls (nulls still come from orGarbage).
    const out: Record<string, unknown> = { type: d.type, ports: d.ports };
    if (d.fqdn !== null) out.fqdn = d.fqdn;
    if (d.ip !== null) out.ip = d.ip;
    if (d.service !== null) out.service = d.service;
    return out;
  });

const toolFilterConfig = fc.oneof(
  looseRecord({ categories: orGarbage(fc.uniqueArray(fc.constantFrom('search', 'fetch', 'filesystem', 'code', 'database', 'shell'), { maxLength: 4 })), denyTools: orGarbage(fc.array(fc.oneof(fc.stringMatching(/^[a-z_.-]{1,12}$/), fc.string({ maxLength: 8 })), { maxLength: 3 })) }),
  fc.jsonValue({ maxDepth: 3 }),
);

export const extensionArb = looseRecord(
  {
    name: orGarbage(fc.oneof(label, fc.constantFrom('auth', 'Auth', 'a_b', ''))),
    type: orGarbage(fc.constantFrom(TOOL_FILTER_TYPE, 'example.com/Unknown', 'gateway.networking.k8s.io/CredentialInjector:v1', 'NoSlash', 'example.com/Kind:v', 'x.io/K:v2')),
    rawConfig: orGarbage(toolFilterConfig),
  },
  ['name', 'type'],
);

export const specArb: fc.Arbitrary<unknown> = orGarbage(
  looseRecord({ destination: orGarbage(destinationArb), extensions: orGarbage(fc.array(extensionArb, { maxLength: 4 })) }, ['destination']),
);

/** Specs that lean well-formed: the patches property wants objects the defaulter actually patches. */
export const mostlyValidSpecArb: fc.Arbitrary<unknown> = fc
  .record({
    type: fc.constantFrom('Fqdn', 'Fqdn', 'Fqdn', 'Ip', 'Service'),
    hostname: hostnameArb,
    address: ipArb,
    ports: fc.array(portArb, { minLength: 1, maxLength: 6 }),
    extensions: fc.option(fc.array(extensionArb, { maxLength: 2 }), { freq: 3 }),
  })
  .map(({ type, hostname, address, ports, extensions }) => {
    const destination: Record<string, unknown> = { type, ports };
    if (type === 'Fqdn') destination.fqdn = { hostname };
    if (type === 'Ip') destination.ip = { address };
    if (type === 'Service') destination.service = { name: 'svc', namespace: 'team-a' };
    return extensions ? { destination, extensions } : { destination };
  });

export const backendArb = (spec: fc.Arbitrary<unknown>) =>
  fc.record({
    kind: fc.constantFrom('Backend', 'Backend', 'XBackendDestination'),
    name: orGarbage(label),
    spec,
    withStatus: fc.boolean(),
  }).map(({ kind, name, spec: s, withStatus }) => ({
    apiVersion: `${GROUP}/${VERSION}`,
    kind,
    metadata: { name, namespace: 'team-a', ...(withStatus ? { labels: { app: 'x' } } : {}) },
    spec: s,
    ...(withStatus ? { status: { conditions: [{ type: 'Accepted', status: 'True' }] } } : {}),
  }));

const gvk = (kind: string) => ({ group: GROUP, version: VERSION, kind });

interface EnvelopeParts {
  apiVersion: unknown;
  kind: unknown;
  uid: unknown;
  reqKind: unknown;
  operation: unknown;
  object: unknown;
  oldObject: unknown;
  dryRun: unknown;
  subResource: string | null;
  dropped: string[];
}

function assemble(x: EnvelopeParts): Record<string, unknown> {
  const request: Record<string, unknown> = {
    uid: x.uid,
    kind: x.reqKind,
    resource: { group: GROUP, version: VERSION, resource: 'backends' },
    name: 'openai',
    namespace: 'team-a',
    operation: x.operation,
    userInfo: { username: 'fuzz' },
    object: x.object,
    oldObject: x.oldObject,
    dryRun: x.dryRun,
  };
  if (x.subResource !== null) request.subResource = x.subResource;
  for (const key of x.dropped) if (key !== 'request') delete request[key];
  const body: Record<string, unknown> = { apiVersion: x.apiVersion, kind: x.kind };
  if (!x.dropped.includes('request')) body.request = request;
  return body;
}

/** A correct envelope around an arbitrary Backend: these reach the validating and defaulting code. */
const cleanReviewArb = fc
  .record({
    apiVersion: fc.constantFrom('admission.k8s.io/v1', 'admission.k8s.io/v1beta1'),
    kind: fc.constant('AdmissionReview'),
    uid: fc.uuid(),
    reqKind: fc.constantFrom(gvk('Backend'), gvk('XBackendDestination')),
    operation: fc.constantFrom('CREATE', 'UPDATE'),
    object: backendArb(specArb),
    oldObject: fc.option(backendArb(specArb), { freq: 2 }),
    dryRun: fc.boolean(),
    subResource: fc.constant(null),
    dropped: fc.constant<string[]>([]),
  })
  .map(assemble);

/** The envelope itself wrong somewhere: anything anywhere. */
const messyReviewArb = fc
  .record({
    apiVersion: orGarbage(fc.constantFrom('admission.k8s.io/v1', 'admission.k8s.io/v1beta1', 'admission.k8s.io/v2'), 2),
    kind: orGarbage(fc.constant('AdmissionReview')),
    uid: orGarbage(fc.oneof(fc.uuid(), fc.string({ minLength: 1, maxLength: 20 })), 2),
    reqKind: orGarbage(fc.oneof(fc.constantFrom(gvk('Backend'), gvk('XBackendDestination')), fc.constant({ group: 'apps', version: 'v1', kind: 'Deployment' }))),
    operation: orGarbage(fc.constantFrom('CREATE', 'UPDATE', 'UPDATE', 'DELETE', 'CONNECT')),
    object: orGarbage(backendArb(specArb), 2),
    oldObject: fc.option(orGarbage(backendArb(specArb)), { freq: 2 }),
    dryRun: orGarbage(fc.boolean()),
    subResource: fc.option(fc.constantFrom('status', 'scale'), { freq: 6 }),
    dropped: fc.subarray(['uid', 'kind', 'object', 'operation', 'request'], { maxLength: 2 }),
  })
  .map(assemble);

/** AdmissionReview-shaped bodies: mostly a correct envelope, often a broken one. */
export const reviewArb = fc.oneof({ weight: 2, arbitrary: cleanReviewArb }, { weight: 1, arbitrary: messyReviewArb });
