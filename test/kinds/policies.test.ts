/**
 * Platform policies applied to XBackend through its unit's policy view: the destination rules,
 * allowedTlsModes in the Backend's words (ServerOnly = Simple, ClientAndServer = Mutual), ports of
 * either spec.port shape, protocols, SNI; the rules that mean nothing for an XBackend (extensions,
 * insecureSkipVerify, defaults) never fire, and GET /policies says so. Through the pure functions and
 * through HTTPS.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { formatFieldError } from '../../src/backend/field-errors.js';
import { DEFAULT_VALIDATION_OPTIONS } from '../../src/backend/options.js';
import { kindFor } from '../../src/kinds/registry.js';
import { defaultWithPolicies, validateWithPolicies } from '../../src/policies/admission.js';
import { NO_NAMESPACE_LABELS } from '../../src/policies/match.js';
import type { PolicyDocument } from '../../src/policies/format.js';
import { policyScopes } from '../../src/policies/registry.js';
import { EMPTY_LOOKUP } from '../../src/schemas/registry.js';
import { fqdnBackend, policySet } from '../policies/support.js';
import { reviewOf } from '../support/reviews.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { makeXBackend } from './cases.js';

const XBACKEND = kindFor({ group: 'gateway.networking.x-k8s.io', version: 'v1alpha1', kind: 'XBackend' })!;
const OPTIONS = { ...DEFAULT_VALIDATION_OPTIONS, unknownExtensionPolicy: 'warn' as const };

const xb = (spec: Record<string, unknown> = {}, hostname = 'api.openai.com'): any =>
  makeXBackend({
    type: 'ExternalHostname',
    externalHostname: { hostname },
    port: { port: 443 },
    protocol: 'HTTP',
    tls: { mode: 'ServerOnly', validation: { hostname, wellKnownCACertificates: 'System' } },
    ...spec,
  });

const judge = (object: any, doc: PolicyDocument, extra: { operation?: string; oldObject?: unknown } = {}) => {
  const result = validateWithPolicies(
    { object, namespace: 'team-a', operation: extra.operation ?? 'CREATE', oldObject: extra.oldObject },
    EMPTY_LOOKUP,
    OPTIONS,
    { policies: policySet(['p', doc]), namespaces: NO_NAMESPACE_LABELS },
    XBACKEND,
  );
  return { errors: result.errors.map(formatFieldError), warnings: result.warnings, decisions: result.decisions };
};

const OPENAI = { hosts: ['*.openai.com'] };

describe('policies on XBackend', () => {
  it('allowedTlsModes reads ServerOnly as Simple and says both names', () => {
    expect(judge(xb(), { match: OPENAI, overrides: { allowedTlsModes: { modes: ['Mutual'] } } }).errors).toEqual([
      'spec.tls.mode: Invalid value: "ServerOnly": policy platform/p (allowedTlsModes): mode ServerOnly (Simple) is not allowed (allowed: Mutual)',
    ]);
    expect(judge(xb(), { match: OPENAI, overrides: { allowedTlsModes: { modes: ['Simple'] } } }).errors).toEqual([]);
    const mtls = xb({ tls: { mode: 'ClientAndServer', clientCertificateRef: { name: 'c' }, validation: { hostname: 'api.openai.com', wellKnownCACertificates: 'System' } } });
    expect(judge(mtls, { match: OPENAI, overrides: { allowedTlsModes: { modes: ['Mutual'] } } }).errors).toEqual([]);
  });

  it('allowedTlsModes: no tls at all is plaintext, required at spec.tls', () => {
    expect(judge(xb({ tls: undefined, protocol: 'H2C' }), { match: OPENAI, overrides: { allowedTlsModes: { modes: ['Simple'] } } }).errors).toEqual([
      'spec.tls: Required value: policy platform/p (allowedTlsModes): TLS is required (allowed modes: Simple)',
    ]);
  });

  it('allowedPorts reports at the spec.port shape used', () => {
    const doc: PolicyDocument = { overrides: { allowedPorts: { ports: [443] } } };
    expect(judge(xb({ port: { port: 8443 } }), doc).errors).toEqual(['spec.port.port: Invalid value: 8443: policy platform/p (allowedPorts): port 8443 is not allowed (allowed: 443)']);
    expect(judge(xb({ port: { number: 8443 } }), doc).errors).toEqual(['spec.port.number: Invalid value: 8443: policy platform/p (allowedPorts): port 8443 is not allowed (allowed: 443)']);
    expect(judge(xb({ port: { number: 443 } }), doc).errors).toEqual([]);
  });

  it('allowedProtocols judges spec.protocol (an unset protocol is not a value)', () => {
    const doc: PolicyDocument = { overrides: { allowedProtocols: { protocols: ['HTTP2'] } } };
    expect(judge(xb(), doc).errors).toEqual(['spec.protocol: Invalid value: "HTTP": policy platform/p (allowedProtocols): protocol HTTP is not allowed (allowed: HTTP2)']);
    expect(judge(xb({ protocol: undefined }), doc).errors).toEqual([]);
  });

  it('denied and allowed destinations, at the hostname; match.hosts decides which policies apply', () => {
    expect(judge(xb(), { overrides: { deniedDestinations: { hosts: ['api.openai.com'] } } }).errors).toEqual([
      'spec.externalHostname.hostname: Forbidden: policy platform/p (deniedDestinations): api.openai.com may not be reached',
    ]);
    expect(judge(xb(), { overrides: { allowedDestinations: { hosts: ['*.corp.example'] } } }).errors).toEqual([
      'spec.externalHostname.hostname: Forbidden: policy platform/p (allowedDestinations): api.openai.com is not an allowed destination',
    ]);
    expect(judge(xb({}, 'api.anthropic.com'), { match: OPENAI, overrides: { deniedDestinations: { hosts: ['api.anthropic.com'] } } }).errors).toEqual([]);
  });

  it('requireSniMatchesHostname reads tls.validation.hostname as the SNI', () => {
    const object = xb({ tls: { mode: 'ServerOnly', validation: { hostname: 'other.openai.com', wellKnownCACertificates: 'System' } } });
    expect(judge(object, { overrides: { requireSniMatchesHostname: {} } }).errors).toEqual([
      'spec.tls.validation.hostname: Invalid value: "other.openai.com": policy platform/p (requireSniMatchesHostname): SNI must equal the hostname api.openai.com',
    ]);
  });

  it('extension rules and forbidInsecureSkipVerify do not apply to an XBackend (they do to a Backend)', () => {
    const doc: PolicyDocument = { overrides: { requiredExtensions: { types: ['gateway.networking.k8s.io/CredentialInjector'] }, forbidInsecureSkipVerify: {} } };
    expect(judge(xb(), doc)).toEqual({ errors: [], warnings: [], decisions: [] });
    const backend = fqdnBackend('api.openai.com', [{ number: 443, protocol: 'HTTP', tls: { mode: 'Simple', insecureSkipVerify: true } }]);
    const onBackend = validateWithPolicies({ object: backend, namespace: 'team-a', operation: 'CREATE' }, EMPTY_LOOKUP, OPTIONS, { policies: policySet(['p', doc]), namespaces: NO_NAMESPACE_LABELS });
    expect(onBackend.errors.map((x) => x.field).sort()).toEqual(['spec.destination.ports[0].tls.insecureSkipVerify', 'spec.extensions']);
  });

  it('ratchets an unchanged breach on UPDATE, as for Backends', () => {
    const doc: PolicyDocument = { overrides: { allowedPorts: { ports: [443] } } };
    const v = judge(xb({ port: { port: 8443 } }), doc, { operation: 'UPDATE', oldObject: xb({ port: { port: 8443 } }) });
    expect(v.errors).toEqual([]);
    expect(v.warnings).toEqual([expect.stringMatching(/^policy platform\/p \(allowedPorts\): unchanged, so allowed: port\.port: port 8443 is not allowed/)]);
  });

  it('policy defaults are not written into an XBackend: only its own TLS default', () => {
    const bare = xb({ tls: undefined });
    const result = defaultWithPolicies({ object: bare, operation: 'CREATE', namespace: 'team-a' }, EMPTY_LOOKUP, OPTIONS, { policies: policySet(['p', { defaults: { tlsMode: 'Mutual', clientCertificateRef: { name: 'c' } } }]), namespaces: NO_NAMESPACE_LABELS }, XBACKEND);
    expect(result.patch).toEqual([{ op: 'add', path: '/spec/tls', value: { mode: 'ServerOnly', validation: { hostname: 'api.openai.com', wellKnownCACertificates: 'System' } } }]);
    expect(result.decisions).toEqual([]);
  });

  it('GET /policies lists what does not apply to XBackend', () => {
    expect(policyScopes()).toEqual([
      { group: 'ainetworking.prototype.x-k8s.io', kinds: ['Backend', 'XBackendDestination'], notApplied: [] },
      { group: 'gateway.networking.x-k8s.io', kinds: ['XBackend'], notApplied: ['forbidInsecureSkipVerify', 'requiredExtensions', 'forbiddenExtensions', 'defaults'] },
    ]);
  });
});

describe('policies on XBackend through HTTPS', () => {
  let server: TestServer | undefined;
  afterAll(async () => server?.close());

  it('denies at the field, naming the policy; allows what the policy allows', async () => {
    const policies = policySet(['openai', { match: OPENAI, overrides: { allowedTlsModes: { modes: ['Mutual'] }, allowedPorts: { ports: [443] } } }]);
    server = await startTestServer({ policies: () => ({ policies, namespaces: NO_NAMESPACE_LABELS }) });
    const denied = (await server.client.postJson('/validate', reviewOf(xb({ port: { number: 8443 } })))).json.response;
    expect(denied.allowed).toBe(false);
    expect(denied.status.details.causes.map((c: any) => c.field)).toEqual(['spec.port.number', 'spec.tls.mode']);
    expect(denied.status.message).toContain('policy platform/openai (allowedTlsModes)');
    expect(denied.auditAnnotations['policy-errors']).toBe('2');
    const elsewhere = (await server.client.postJson('/validate', reviewOf(xb({ port: { number: 8443 } }, 'api.anthropic.com')))).json.response;
    expect(elsewhere.allowed).toBe(true);
  });
});
