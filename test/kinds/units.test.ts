/**
 * The kinds table through the units the registry hands out (pure functions): exact fields and types
 * of every error, every warning; the registry's lookups; XBackend defaulting and its idempotence.
 */
import jsonPatch from 'fast-json-patch';
import { describe, expect, it } from 'vitest';
import { formatFieldError } from '../../src/backend/field-errors.js';
import { DEFAULT_VALIDATION_OPTIONS } from '../../src/backend/options.js';
import { all, kindFor, servedKindNames, webhookRules } from '../../src/kinds/registry.js';
import { EMPTY_LOOKUP } from '../../src/schemas/registry.js';
import { BACKEND_TLS_POLICY_CASES, KIND_CASES, makeXBackend, XBACKEND_CASES, type KindCase } from './cases.js';

const gvkOf = (o: any) => {
  const [group, version] = String(o.apiVersion).split('/');
  return { group: group!, version: version!, kind: String(o.kind) };
};
const judge = (c: KindCase) =>
  kindFor(gvkOf(c.object))!.validate(
    { object: c.object, oldObject: c.oldObject, operation: c.operation ?? 'CREATE', namespace: 'team-a' },
    EMPTY_LOOKUP,
    { ...DEFAULT_VALIDATION_OPTIONS, ...(c.options ?? {}) },
  );
const byField = (a: { field: string; type: string }, b: { field: string; type: string }) => a.field.localeCompare(b.field) || a.type.localeCompare(b.type);

describe('the kinds table through the registry\'s units', () => {
  it('has at least 40 XBackend cases, valid and invalid, and guard cases', () => {
    expect(XBACKEND_CASES.length).toBeGreaterThanOrEqual(40);
    expect(XBACKEND_CASES.filter((c) => c.expectErrors.length === 0).length).toBeGreaterThan(10);
    expect(XBACKEND_CASES.filter((c) => c.expectErrors.length > 0).length).toBeGreaterThan(30);
    expect(BACKEND_TLS_POLICY_CASES.filter((c) => c.expectErrors.length > 0).length).toBeGreaterThan(4);
    expect(new Set(KIND_CASES.map((c) => c.name)).size).toBe(KIND_CASES.length);
  });

  for (const c of KIND_CASES) {
    it(c.name, () => {
      const result = judge(c);
      expect(result.errors.map((x) => ({ field: x.field, type: x.type })).sort(byField)).toEqual([...c.expectErrors].sort(byField));
      const patterns = c.expectWarnings ?? [];
      expect(result.warnings).toHaveLength(patterns.length);
      for (const p of patterns) expect(result.warnings).toEqual(expect.arrayContaining([expect.stringMatching(p)]));
      for (const error of result.errors) expect(formatFieldError(error)).not.toMatch(/must NOT|must have required property|must be equal to one of/);
    });
  }
});

describe('messages say what to do', () => {
  const only = (name: string) => judge(KIND_CASES.find((c) => c.name === name)!).errors.map(formatFieldError);
  it('the hostname refusals name the reason', () => {
    expect(only('xbackend ours: an IPv4 literal is not a hostname')[0]).toMatch(/IP address/);
    expect(only('xbackend ours: no wildcard')[0]).toMatch(/wildcard/);
    expect(only('xbackend ours: localhost')[0]).toMatch(/loopback name/);
    expect(only('xbackend ours: a hex spelling of the metadata address')[0]).toMatch(/resolves as an IP address \(169\.254\.169\.254\)/);
    expect(only('xbackend ours: the multi-cluster Services domain')[0]).toMatch(/cluster-internal name \(under clusterset\.local\)/);
    expect(only('xbackend CEL: .cluster.local refused even with another --cluster-domain')[0]).toMatch(/cluster-internal/);
  });
  it('a Backend mode name is answered with the XBackend one', () => {
    expect(only('xbackend ours: Backend mode names get a hint')[0]).toMatch(/use "ServerOnly"/);
  });
  it('a cross-namespace client certificate names the ReferenceGrant it would need', () => {
    expect(only('xbackend ours: client certificate in another namespace')[0]).toMatch(/^spec\.tls\.clientCertificateRef\.namespace: Forbidden: .*needs a ReferenceGrant in team-b from XBackend/);
  });
  it('the guard says where TLS settings go instead', () => {
    expect(only('btlsp refused: an XBackend target')[0]).toMatch(/^spec\.targetRefs\[0\]: Forbidden: .*XBackend's spec\.tls/);
    expect(only('btlsp refused: a Backend target')[0]).toMatch(/Backend's port/);
  });
});

describe('cross-namespace references plug into a grant lookup', () => {
  it('a grant allows what no grant refuses', () => {
    const c = KIND_CASES.find((x) => x.name === 'xbackend ours: client certificate in another namespace')!;
    const unit = kindFor(gvkOf(c.object))!;
    const seen: unknown[] = [];
    const lookup = {
      allows: (from: unknown, to: { namespace: string }) => {
        seen.push({ from, to });
        return to.namespace === 'team-b';
      },
    };
    const granted = unit.validate({ object: c.object, operation: 'CREATE', namespace: 'team-a' }, EMPTY_LOOKUP, { ...DEFAULT_VALIDATION_OPTIONS, referenceGrants: lookup });
    expect(granted.errors).toEqual([]);
    // Without the grant (or with --cross-namespace-refs deny) the same reference is refused.
    expect(unit.validate({ object: c.object, operation: 'CREATE', namespace: 'team-a' }, EMPTY_LOOKUP, DEFAULT_VALIDATION_OPTIONS).errors.map((e) => e.field)).toEqual(['spec.tls.clientCertificateRef.namespace']);
    expect(
      unit.validate({ object: c.object, operation: 'CREATE', namespace: 'team-a' }, EMPTY_LOOKUP, { ...DEFAULT_VALIDATION_OPTIONS, referenceGrants: lookup, crossNamespaceRefs: 'deny' }).errors.map((e) => e.field),
    ).toEqual(['spec.tls.clientCertificateRef.namespace']);
    expect(seen).toEqual([{ from: { group: 'gateway.networking.x-k8s.io', kind: 'XBackend', namespace: 'team-a' }, to: { group: '', kind: 'Secret', name: 'client-cert', namespace: 'team-b' } }]);
  });
});

describe('the registry', () => {
  it('finds each served kind by group, version and kind, and nothing else', () => {
    expect(kindFor({ group: 'ainetworking.prototype.x-k8s.io', version: 'v0alpha0', kind: 'XBackendDestination' })?.name).toBe('Backend');
    expect(kindFor({ group: 'gateway.networking.x-k8s.io', version: 'v1alpha1', kind: 'XBackend' })?.name).toBe('XBackend');
    expect(kindFor({ group: 'gateway.networking.k8s.io', version: 'v1alpha3', kind: 'BackendTLSPolicy' })?.name).toBe('BackendTLSPolicy');
    expect(kindFor({ group: 'gateway.networking.x-k8s.io', version: 'v1alpha2', kind: 'XBackend' })).toBeUndefined();
    expect(kindFor({ group: 'gateway.networking.k8s.io', version: 'v1', kind: 'HTTPRoute' })).toBeUndefined();
    expect(servedKindNames().sort()).toEqual(['Backend', 'BackendTLSPolicy', 'XBackend', 'XBackendDestination']);
  });
  it('serves the guard on /validate only', () => {
    expect(webhookRules('mutate').map((r) => r.rule.resources)).toEqual([['backends', 'xbackenddestinations'], ['xbackends']]);
    expect(webhookRules('validate').map((r) => r.rule.resources)).toEqual([['backends', 'xbackenddestinations'], ['xbackends'], ['backendtlspolicies']]);
    expect(all().filter((u) => u.defaults).map((u) => u.name)).toEqual(['Backend', 'XBackend']);
  });
});

describe('XBackend defaulting', () => {
  const unit = kindFor({ group: 'gateway.networking.x-k8s.io', version: 'v1alpha1', kind: 'XBackend' })!;
  const bare = (extra: Record<string, unknown> = {}) => makeXBackend({ type: 'ExternalHostname', externalHostname: { hostname: 'api.openai.com' }, port: { port: 443 }, ...extra });

  it('gives an external hostname without tls ServerOnly TLS verified by the system roots, in one add', () => {
    const result = unit.defaults!.patch(bare({ protocol: 'HTTP2' }));
    expect(result.patch).toEqual([{ op: 'add', path: '/spec/tls', value: { mode: 'ServerOnly', validation: { hostname: 'api.openai.com', wellKnownCACertificates: 'System' } } }]);
    expect(result.defaulted).toEqual(['spec.tls']);
  });
  it('is idempotent, and the result is valid', () => {
    const object = bare();
    const once = jsonPatch.applyPatch(structuredClone(object), unit.defaults!.patch(object).patch as jsonPatch.Operation[], false, false).newDocument;
    expect(unit.defaults!.patch(once).patch).toEqual([]);
    expect(unit.validate({ object: once, operation: 'CREATE', namespace: 'team-a' }, EMPTY_LOOKUP, DEFAULT_VALIDATION_OPTIONS).errors).toEqual([]);
  });
  it('leaves alone: H2C (cleartext by choice), a set tls (even None), a malformed hostname, another type', () => {
    expect(unit.defaults!.patch(bare({ protocol: 'H2C' })).patch).toEqual([]);
    expect(unit.defaults!.patch(bare({ tls: { mode: 'None' } })).patch).toEqual([]);
    expect(unit.defaults!.patch(makeXBackend({ type: 'ExternalHostname', externalHostname: { hostname: '1.2.3.4' }, port: { port: 443 } })).patch).toEqual([]);
    expect(unit.defaults!.patch(makeXBackend({ type: 'Other', externalHostname: { hostname: 'api.openai.com' }, port: { port: 443 } })).patch).toEqual([]);
    expect(unit.defaults!.patch('not an object').patch).toEqual([]);
  });
});
