/**
 * Cross-namespace references and ReferenceGrants as pure functions (issue 12.4), and the rule in
 * validateBackend: Forbidden at `...namespace` unless allowed; ratcheted when the reference is unchanged.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_VALIDATION_OPTIONS, type ValidationOptions } from '../../src/backend/options.js';
import { validateBackend } from '../../src/backend/validate.js';
import { EMPTY_LOOKUP } from '../../src/schemas/registry.js';
import { crossNamespaceRefProblem, grantAllows, isReferenceGrant, NO_REFERENCE_GRANTS, parseReferenceGrant, ReferenceGrantIndex } from '../../src/references/grants.js';

const GROUP = 'ainetworking.prototype.x-k8s.io';
const grantObject = (namespace: string, from: unknown[], to: unknown[], apiVersion = 'gateway.networking.k8s.io/v1beta1') => ({
  apiVersion,
  kind: 'ReferenceGrant',
  metadata: { name: `g-${namespace}`, namespace },
  spec: { from, to },
});
const fromTeamA = { group: GROUP, kind: 'Backend', namespace: 'team-a' };
const secret = (name: string, namespace = 'certs') => ({ group: '', kind: 'Secret', name, namespace });

describe('ReferenceGrants', () => {
  it('recognises v1 and v1beta1 ReferenceGrants only', () => {
    expect(isReferenceGrant(grantObject('a', [], [], 'gateway.networking.k8s.io/v1'))).toBe(true);
    expect(isReferenceGrant(grantObject('a', [], []))).toBe(true);
    expect(isReferenceGrant(grantObject('a', [], [], 'gateway.networking.k8s.io/v1alpha2'))).toBe(false);
    expect(isReferenceGrant({ ...grantObject('a', [], []), kind: 'ReferencePolicy' })).toBe(false);
  });

  it('allows exactly from {group, kind, namespace} to {group "", kind, optional name}, in its own namespace', () => {
    const grant = parseReferenceGrant(grantObject('certs', [{ group: GROUP, kind: 'Backend', namespace: 'team-a' }], [{ group: '', kind: 'Secret', name: 'client-cert' }]))!;
    expect(grantAllows(grant, fromTeamA, secret('client-cert'))).toBe(true);
    expect(grantAllows(grant, fromTeamA, secret('other'))).toBe(false);
    expect(grantAllows(grant, { ...fromTeamA, namespace: 'team-b' }, secret('client-cert'))).toBe(false);
    expect(grantAllows(grant, { ...fromTeamA, kind: 'XBackendDestination' }, secret('client-cert'))).toBe(false);
    expect(grantAllows(grant, { ...fromTeamA, group: 'other.example.com' }, secret('client-cert'))).toBe(false);
    expect(grantAllows(grant, fromTeamA, { ...secret('client-cert'), kind: 'ConfigMap' })).toBe(false);
    // A grant only speaks for its own namespace.
    expect(grantAllows(grant, fromTeamA, secret('client-cert', 'elsewhere'))).toBe(false);
    const anyName = parseReferenceGrant(grantObject('certs', [{ group: GROUP, kind: 'Backend', namespace: 'team-a' }], [{ group: '', kind: 'Secret' }]))!;
    expect(grantAllows(anyName, fromTeamA, secret('whatever'))).toBe(true);
  });

  it('is kind-agnostic: the referring group and kind are inputs (Gateway API XBackend uses the same lookup)', () => {
    const xbackend = { group: 'gateway.networking.x-k8s.io', kind: 'XBackend', namespace: 'team-a' };
    const index = ReferenceGrantIndex.fromObjects([grantObject('certs', [{ group: xbackend.group, kind: 'XBackend', namespace: 'team-a' }], [{ group: '', kind: 'Secret' }])]);
    expect(index.allows(xbackend, secret('c'))).toBe(true);
    expect(index.allows(fromTeamA, secret('c'))).toBe(false);
  });

  it('an index follows puts and removals; malformed entries grant nothing', () => {
    const index = new ReferenceGrantIndex();
    const g = parseReferenceGrant(grantObject('certs', [{ group: GROUP, kind: 'Backend', namespace: 'team-a' }, { kind: 'Backend' }, 7], [{ group: '', kind: 'Secret' }, { name: 'x' }]))!;
    expect(g.from).toHaveLength(1);
    expect(g.to).toHaveLength(1);
    index.put(g);
    expect(index.allows(fromTeamA, secret('c'))).toBe(true);
    index.remove('certs', g.name);
    expect(index.allows(fromTeamA, secret('c'))).toBe(false);
    expect(parseReferenceGrant({ ...grantObject('', [], []), metadata: { name: 'n' } })).toBeUndefined();
    expect(ReferenceGrantIndex.fromObjects([{ ...grantObject('x', [], []), metadata: { name: 'n' } }]).size).toBe(1); // offline: `default`
  });

  it('modes: allow always, deny never (grants ignored), reference-grant as the grants say; same namespace is always fine', () => {
    const index = ReferenceGrantIndex.fromObjects([grantObject('certs', [{ group: GROUP, kind: 'Backend', namespace: 'team-a' }], [{ group: '', kind: 'Secret' }])]);
    expect(crossNamespaceRefProblem('allow', NO_REFERENCE_GRANTS, fromTeamA, secret('c'))).toBeUndefined();
    expect(crossNamespaceRefProblem('reference-grant', index, fromTeamA, secret('c'))).toBeUndefined();
    expect(crossNamespaceRefProblem('deny', index, fromTeamA, secret('c'))).toMatch(/must be the Backend's own namespace \(team-a\)/);
    expect(crossNamespaceRefProblem('reference-grant', NO_REFERENCE_GRANTS, fromTeamA, secret('c'))).toBe(
      'a Secret in another namespace needs a ReferenceGrant in certs from Backend (ainetworking.prototype.x-k8s.io) in team-a to Secret "c"; none was found',
    );
    expect(crossNamespaceRefProblem('deny', undefined, fromTeamA, secret('c', 'team-a'))).toBeUndefined();
  });
});

describe('the rule in validateBackend', () => {
  const backend = (tls: object, namespace = 'team-a') => ({
    apiVersion: `${GROUP}/v0alpha0`,
    kind: 'Backend',
    metadata: { name: 'b', namespace },
    spec: { destination: { type: 'Fqdn', fqdn: { hostname: 'api.example.com' }, ports: [{ number: 443, protocol: 'HTTP', tls }] } },
  });
  const mutual = (ref: object) => ({ mode: 'Mutual', clientCertificateRef: ref });
  const judge = (object: object, options: Partial<ValidationOptions> = {}, oldObject?: object) =>
    validateBackend({ object, operation: oldObject ? 'UPDATE' : 'CREATE', ...(oldObject ? { oldObject } : {}), namespace: 'team-a' }, EMPTY_LOOKUP, { ...DEFAULT_VALIDATION_OPTIONS, ...options });

  it('refuses a Secret in another namespace by default, at ...clientCertificateRef.namespace', () => {
    const { errors } = judge(backend(mutual({ name: 'c', namespace: 'certs' })));
    expect(errors).toEqual([expect.objectContaining({ type: 'FieldValueForbidden', field: 'spec.destination.ports[0].tls.clientCertificateRef.namespace' })]);
  });

  it('leaves ClusterTrustBundles (cluster-scoped) and other groups to their own rules', () => {
    const { errors } = judge(backend({ mode: 'Simple', caBundleRef: [{ group: 'certificates.k8s.io', kind: 'ClusterTrustBundle', name: 'b' }] }));
    expect(errors).toEqual([]);
  });

  it('uses the request namespace, then metadata.namespace: a reference into the own namespace passes', () => {
    expect(judge(backend(mutual({ name: 'c', namespace: 'team-a' }))).errors).toEqual([]);
    const offline = validateBackend({ object: backend(mutual({ name: 'c', namespace: 'team-b' }), 'team-b'), operation: 'CREATE' }, EMPTY_LOOKUP, DEFAULT_VALIDATION_OPTIONS);
    expect(offline.errors).toEqual([]);
  });

  it('an unchanged reference on UPDATE is ratcheted (a warning); a changed one is refused', () => {
    const old = backend(mutual({ name: 'c', namespace: 'certs' }));
    const same = judge(backend(mutual({ name: 'c', namespace: 'certs' })), {}, old);
    expect(same.errors).toEqual([]);
    expect(same.warnings).toEqual([expect.stringMatching(/^unchanged, so allowed: spec\.destination\.ports\[0\]\.tls\.clientCertificateRef\.namespace: Forbidden/)]);
    expect(judge(backend(mutual({ name: 'd', namespace: 'certs' })), {}, old).errors).toHaveLength(1);
  });
});
