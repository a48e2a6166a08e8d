import jsonPatch from 'fast-json-patch';
import { describe, expect, it } from 'vitest';
import { formatFieldError } from '../../src/backend/field-errors.js';
import { DEFAULT_VALIDATION_OPTIONS } from '../../src/backend/options.js';
import { defaultWithPolicies, validateWithPolicies } from '../../src/policies/admission.js';
import { applicablePolicies, evaluateOverrides } from '../../src/policies/evaluate.js';
import { NO_NAMESPACE_LABELS, type NamespaceLabelLookup } from '../../src/policies/match.js';
import { StaticNamespaceLabels } from '../../src/policies/namespaces.js';
import type { PolicySet } from '../../src/policies/policy-set.js';
import { EMPTY_LOOKUP } from '../../src/schemas/registry.js';
import { fqdnBackend, policySet } from './support.js';

const judge = (object: unknown, policies: PolicySet, namespaces: NamespaceLabelLookup = NO_NAMESPACE_LABELS, extra: { oldObject?: unknown; operation?: string } = {}) =>
  evaluateOverrides({ object, namespace: object && (object as any).metadata?.namespace, operation: extra.operation ?? 'CREATE', oldObject: extra.oldObject }, { policies, namespaces });

const errorsOf = (v: ReturnType<typeof judge>): string[] => v.errors.map(formatFieldError);

// No extension schemas registered here: unknown extension types warn rather than deny.
const OPTIONS = { ...DEFAULT_VALIDATION_OPTIONS, unknownExtensionPolicy: 'warn' as const };

const defaulted = (object: unknown, policies: PolicySet, namespaces: NamespaceLabelLookup = NO_NAMESPACE_LABELS) => {
  const result = defaultWithPolicies({ object, operation: 'CREATE', namespace: (object as any).metadata.namespace }, EMPTY_LOOKUP, OPTIONS, { policies, namespaces });
  const after = jsonPatch.applyPatch(structuredClone(object) as object, result.patch, false, false).newDocument as any;
  return { ...result, after };
};

describe('overrides', () => {
  const tlsPolicy = (action: 'deny' | 'warn') => policySet(['openai-tls', { match: { hosts: ['*.openai.com'] }, overrides: { allowedTlsModes: { modes: ['Simple', 'Mutual'], action } } }]);
  const plaintext = () => fqdnBackend('api.openai.com', [{ number: 80, protocol: 'HTTP', tls: { mode: 'None' } }]);

  it('deny: refuses at the offending field, naming the policy and the rule', () => {
    const v = judge(plaintext(), tlsPolicy('deny'));
    expect(errorsOf(v)).toEqual([
      'spec.destination.ports[0].tls.mode: Invalid value: "None": policy platform/openai-tls (allowedTlsModes): mode None is not allowed (allowed: Simple, Mutual)',
    ]);
    expect(v.warnings).toEqual([]);
    expect(v.decisions).toEqual([{ policy: 'platform/openai-tls', rule: 'allowedTlsModes', action: 'deny' }]);
  });

  it('warn: allows, with a short warning naming the policy and the rule', () => {
    const v = judge(plaintext(), tlsPolicy('warn'));
    expect(v.errors).toEqual([]);
    expect(v.warnings).toEqual(['policy platform/openai-tls (allowedTlsModes): ports[0].tls.mode: mode None is not allowed (allowed: Simple, Mutual)']);
    expect(v.warnings.every((w) => w.length < 120)).toBe(true);
    expect(v.decisions).toEqual([{ policy: 'platform/openai-tls', rule: 'allowedTlsModes', action: 'warn' }]);
  });

  it('applies only to matching destinations: exact, *.suffix (strictly below), CIDR, Service', () => {
    const p = tlsPolicy('deny');
    expect(judge(fqdnBackend('openai.com', [{ number: 80, protocol: 'HTTP', tls: { mode: 'None' } }]), p).errors).toEqual([]);
    expect(judge(fqdnBackend('api.openai.com.evil.com', [{ number: 80, protocol: 'HTTP', tls: { mode: 'None' } }]), p).errors).toEqual([]);
    const ranges = policySet(['lab', { match: { cidrs: ['10.1.0.0/16'], services: [{ namespace: 'models' }] }, overrides: { allowedPorts: { ports: [443] } } }]);
    const ip = (address: string) => ({ metadata: { namespace: 'team-a' }, spec: { destination: { type: 'Ip', ip: { address }, ports: [{ number: 80, protocol: 'TCP' }] } } });
    expect(errorsOf(judge(ip('10.1.2.3'), ranges))).toEqual([expect.stringContaining('spec.destination.ports[0].number: Invalid value: 80: policy platform/lab (allowedPorts)')]);
    expect(judge(ip('10.2.0.1'), ranges).errors).toEqual([]);
    // An IPv4-mapped IPv6 address is the IPv4 host: the range still applies.
    expect(judge(ip('::ffff:10.1.2.3'), ranges).errors).toHaveLength(1);
    const svc = (namespace?: string) => ({ metadata: { namespace: 'models' }, spec: { destination: { type: 'Service', service: { name: 'llm', ...(namespace ? { namespace } : {}) }, ports: [{ number: 80, protocol: 'HTTP' }] } } });
    expect(judge(svc(), ranges).errors).toHaveLength(1); // namespace defaults to the Backend's
    expect(judge(svc('other'), ranges).errors).toEqual([]);
  });

  it('every rule reports at its field', () => {
    const p = policySet([
      'strict',
      {
        match: { hosts: ['api.example.com'] },
        overrides: {
          forbidInsecureSkipVerify: {},
          requireSniMatchesHostname: {},
          allowedProtocols: { protocols: ['HTTP'] },
          requiredExtensions: { types: ['example.com/Audit'] },
          forbiddenExtensions: { types: ['example.com/Debug:v1'] },
          deniedDestinations: { hosts: ['*.example.com'] },
        },
      },
    ]);
    const b = fqdnBackend('api.example.com', [{ number: 443, protocol: 'HTTP2', tls: { mode: 'Simple', sni: 'other.example.com', insecureSkipVerify: true } }], {
      extensions: [{ name: 'dbg', type: 'example.com/Debug:v1' }],
    });
    expect(errorsOf(judge(b, p))).toEqual([
      'spec.destination.fqdn.hostname: Forbidden: policy platform/strict (deniedDestinations): api.example.com may not be reached',
      'spec.destination.ports[0].protocol: Invalid value: "HTTP2": policy platform/strict (allowedProtocols): protocol HTTP2 is not allowed (allowed: HTTP)',
      'spec.destination.ports[0].tls.insecureSkipVerify: Forbidden: policy platform/strict (forbidInsecureSkipVerify): must not be true (certificate verification is required)',
      'spec.destination.ports[0].tls.sni: Invalid value: "other.example.com": policy platform/strict (requireSniMatchesHostname): SNI must equal the hostname api.example.com',
      'spec.extensions: Required value: policy platform/strict (requiredExtensions): an extension of type example.com/Audit is required',
      'spec.extensions[0].type: Forbidden: policy platform/strict (forbiddenExtensions): extensions of type example.com/Debug:v1 are not allowed',
    ]);
    // A version-less required type is satisfied by any version of the kind.
    const ok = fqdnBackend('api.example.com', undefined, { extensions: [{ name: 'a', type: 'example.com/Audit:v3' }] });
    expect(errorsOf(judge(ok, p))).toEqual([expect.stringContaining('(deniedDestinations)')]);
  });

  it('allowedDestinations refuses anything not listed', () => {
    const p = policySet(['allow', { overrides: { allowedDestinations: { hosts: ['*.openai.com'], cidrs: ['10.0.0.0/8'] } } }]);
    expect(judge(fqdnBackend('api.openai.com'), p).errors).toEqual([]);
    expect(errorsOf(judge(fqdnBackend('api.evil.com'), p))).toEqual([
      'spec.destination.fqdn.hostname: Forbidden: policy platform/allow (allowedDestinations): api.evil.com is not an allowed destination',
    ]);
  });

  it('a missing tls block counts as plaintext for allowedTlsModes', () => {
    const p = policySet(['tls', { overrides: { allowedTlsModes: { modes: ['Simple'] } } }]);
    const ip = { metadata: { namespace: 'team-a' }, spec: { destination: { type: 'Ip', ip: { address: '10.0.0.1' }, ports: [{ number: 80, protocol: 'TCP' }] } } };
    expect(errorsOf(judge(ip, p))).toEqual(['spec.destination.ports[0].tls: Required value: policy platform/tls (allowedTlsModes): TLS is required (allowed modes: Simple)']);
  });

  it('UPDATE: a breach in an unchanged value is said, not enforced (a new policy never blocks finalizer removal)', () => {
    const p = policySet(['tls', { overrides: { allowedTlsModes: { modes: ['Simple'] } } }]);
    const old = fqdnBackend('api.openai.com', [{ number: 80, protocol: 'HTTP', tls: { mode: 'None' } }]);
    const now = structuredClone(old);
    now.metadata.finalizers = [];
    const v = judge(now, p, NO_NAMESPACE_LABELS, { operation: 'UPDATE', oldObject: old });
    expect(v.errors).toEqual([]);
    expect(v.ratcheted).toHaveLength(1);
    expect(v.warnings).toEqual(['policy platform/tls (allowedTlsModes): unchanged, so allowed: ...[0].tls.mode: mode None is not allowed (allowed: Si...']);
    const changed = structuredClone(old);
    changed.spec.destination.ports[0].number = 81;
    changed.spec.destination.ports[0].tls.mode = 'None';
    const fresh = fqdnBackend('api.openai.com', [{ number: 80, protocol: 'HTTP', tls: { mode: 'Simple' } }]);
    expect(judge(old, p, NO_NAMESPACE_LABELS, { operation: 'UPDATE', oldObject: fresh }).errors).toHaveLength(1);
  });
});

describe('ratcheting switches: a breach is unchanged only if the same policy denied it before', () => {
  it('a changed hostname that brings a policy into play judges the unchanged port in full', () => {
    const p = policySet(['openai-ports', { match: { hosts: ['*.openai.com'] }, overrides: { allowedPorts: { ports: [443] } } }]);
    const old = fqdnBackend('api.example.com', [{ number: 8443, protocol: 'HTTP', tls: { mode: 'Simple' } }]);
    const now = fqdnBackend('api.openai.com', [{ number: 8443, protocol: 'HTTP', tls: { mode: 'Simple' } }]);
    const v = judge(now, p, NO_NAMESPACE_LABELS, { operation: 'UPDATE', oldObject: old });
    expect(errorsOf(v)).toEqual(['spec.destination.ports[0].number: Invalid value: 8443: policy platform/openai-ports (allowedPorts): port 8443 is not allowed (allowed: 443)']);
    expect(v.ratcheted).toEqual([]);
    // Control: the same breach on an unchanged object stays a warning.
    const same = judge(now, p, NO_NAMESPACE_LABELS, { operation: 'UPDATE', oldObject: structuredClone(now) });
    expect(same.errors).toEqual([]);
    expect(same.ratcheted).toHaveLength(1);
  });

  it('a mode switched away from None turns on requireSniMatchesHostname for an unchanged sni', () => {
    const p = policySet(['sni', { overrides: { requireSniMatchesHostname: {} } }]);
    const old = fqdnBackend('api.openai.com', [{ number: 443, protocol: 'HTTP', tls: { mode: 'None', sni: 'other.example.com' } }]);
    const now = fqdnBackend('api.openai.com', [{ number: 443, protocol: 'HTTP', tls: { mode: 'Simple', sni: 'other.example.com' } }]);
    const v = judge(now, p, NO_NAMESPACE_LABELS, { operation: 'UPDATE', oldObject: old });
    expect(errorsOf(v)).toEqual(['spec.destination.ports[0].tls.sni: Invalid value: "other.example.com": policy platform/sni (requireSniMatchesHostname): SNI must equal the hostname api.openai.com']);
  });

  it('a breach moved to another policy is judged in full', () => {
    const p = policySet(
      ['a-openai', { match: { hosts: ['*.openai.com'] }, overrides: { forbidInsecureSkipVerify: {} } }],
      ['b-anthropic', { match: { hosts: ['*.anthropic.com'] }, overrides: { forbidInsecureSkipVerify: {} } }],
    );
    const port = [{ number: 443, protocol: 'HTTP', tls: { mode: 'Simple', insecureSkipVerify: true } }];
    const v = judge(fqdnBackend('api.anthropic.com', port), p, NO_NAMESPACE_LABELS, { operation: 'UPDATE', oldObject: fqdnBackend('api.openai.com', port) });
    expect(errorsOf(v)).toHaveLength(1);
    expect(errorsOf(v)[0]).toMatch(/policy platform\/b-anthropic/);
  });
});

describe('precedence', () => {
  const set = policySet(
    ['a-general', { match: { hosts: ['*.openai.com'] }, overrides: { allowedTlsModes: { modes: ['Mutual'] } } }],
    ['b-exact', { match: { hosts: ['legacy.openai.com'] }, overrides: { allowedTlsModes: { modes: ['Simple', 'None'] } } }],
    ['c-longer-suffix', { match: { hosts: ['*.eu.openai.com'] }, overrides: { allowedTlsModes: { modes: ['Simple'], action: 'warn' } } }],
    ['d-global', { overrides: { allowedTlsModes: { modes: ['None'] }, forbidInsecureSkipVerify: {} } }],
  );
  const simple = (host: string) => fqdnBackend(host, [{ number: 443, protocol: 'HTTP', tls: { mode: 'Simple', sni: host, insecureSkipVerify: true } }]);

  it('orders matching policies: exact, then longer wildcard, then shorter, then match-all', () => {
    const order = (host: string) => applicablePolicies(simple(host), 'team-a', set, NO_NAMESPACE_LABELS).map((a) => a.policy.ref);
    expect(order('x.eu.openai.com')).toEqual(['platform/c-longer-suffix', 'platform/a-general', 'platform/d-global']);
    expect(order('legacy.openai.com')).toEqual(['platform/b-exact', 'platform/a-general', 'platform/d-global']);
  });

  it('the most specific policy that sets a rule decides it; other rules still come from the others', () => {
    // legacy: the exact policy allows Simple, overriding the wildcard's Mutual; insecureSkipVerify from the global one.
    expect(errorsOf(judge(simple('legacy.openai.com'), set))).toEqual([expect.stringContaining('policy platform/d-global (forbidInsecureSkipVerify)')]);
    // api: the wildcard decides TLS modes.
    expect(errorsOf(judge(simple('api.openai.com'), set))).toEqual([
      expect.stringContaining('policy platform/d-global (forbidInsecureSkipVerify)'),
      expect.stringContaining('policy platform/a-general (allowedTlsModes)'),
    ]);
    // x.eu: the longer suffix decides, and it only warns.
    const eu = judge(fqdnBackend('x.eu.openai.com', [{ number: 443, protocol: 'HTTP', tls: { mode: 'Mutual', clientCertificateRef: { name: 'c' } } }]), set);
    expect(eu.errors).toEqual([]);
    expect(eu.warnings).toEqual([expect.stringMatching(/^policy platform\/c-longer-suffix \(allowedTlsModes\)/)]);
  });

  it('equal specificity: name order decides, and the conflict is reported', () => {
    const tie = policySet(
      ['zeta', { match: { hosts: ['api.openai.com'] }, overrides: { allowedPorts: { ports: [8443] } } }],
      ['alpha', { match: { hosts: ['api.openai.com'] }, overrides: { allowedPorts: { ports: [443] } } }],
    );
    expect(errorsOf(judge(fqdnBackend('api.openai.com'), tie))).toEqual([]);
    expect(tie.conflicts).toEqual([{ key: 'overrides.allowedPorts', patterns: ['api.openai.com'], policies: ['platform/alpha', 'platform/zeta'], winner: 'platform/alpha' }]);
    // Same value twice is no conflict.
    expect(policySet(['a', { overrides: { forbidInsecureSkipVerify: {} } }], ['b', { overrides: { forbidInsecureSkipVerify: {} } }]).conflicts).toEqual([]);
  });

  it('extension rules resolve per type: a specific policy does not drop a general requirement', () => {
    const p = policySet(
      ['all', { overrides: { requiredExtensions: { types: ['example.com/Audit'] } } }],
      ['openai', { match: { hosts: ['api.openai.com'] }, overrides: { requiredExtensions: { types: ['gateway.networking.k8s.io/CredentialInjector'] } } }],
    );
    expect(errorsOf(judge(fqdnBackend('api.openai.com'), p))).toEqual([
      expect.stringContaining('policy platform/all (requiredExtensions): an extension of type example.com/Audit is required'),
      expect.stringContaining('policy platform/openai (requiredExtensions): an extension of type gateway.networking.k8s.io/CredentialInjector is required'),
    ]);
  });
});

describe('namespace selectors', () => {
  const p = policySet(['restricted', { match: { namespaceSelector: { matchLabels: { egress: 'restricted' } } }, overrides: { deniedDestinations: { hosts: ['*.pastebin.com'] } } }]);
  const b = (ns: string) => fqdnBackend('x.pastebin.com', undefined, {}, ns);
  const labels = new StaticNamespaceLabels([
    { kind: 'Namespace', metadata: { name: 'locked', labels: { egress: 'restricted' } } },
    { kind: 'Namespace', metadata: { name: 'open' } },
  ]);

  it('apply where the namespace labels match, not elsewhere', () => {
    expect(errorsOf(judge(b('locked'), p, labels))).toEqual([expect.stringContaining('policy platform/restricted (deniedDestinations)')]);
    expect(judge(b('open'), p, labels).errors).toEqual([]);
  });

  it('unknown labels: the policy is enforced, and the denial says why', () => {
    const v = judge(b('unlisted'), p, labels);
    expect(errorsOf(v)).toEqual([expect.stringContaining('labels of namespace unlisted are unknown, so its namespace selector was not evaluated and it is enforced')]);
  });

  it('unknown labels of a warn rule: a warning, not a denial', () => {
    const warn = policySet(['r', { match: { namespaceSelector: { matchLabels: { egress: 'restricted' } } }, overrides: { deniedDestinations: { hosts: ['*.pastebin.com'], action: 'warn' } } }]);
    const v = judge(b('unlisted'), warn, labels);
    expect(v.errors).toEqual([]);
    expect(v.warnings).toEqual([expect.stringMatching(/^policy platform\/r \(deniedDestinations, namespace unknown\)/)]);
  });

  it('a selector on kubernetes.io/metadata.name needs no labels', () => {
    const byName = policySet(['n', { match: { namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['team-a'] }] } }, overrides: { deniedDestinations: { hosts: ['*.pastebin.com'] } } }]);
    expect(judge(b('team-a'), byName).errors).toHaveLength(1);
    expect(judge(b('team-b'), byName).errors).toEqual([]);
  });

  it('defaults never come from a policy whose selector could not be evaluated', () => {
    const d = policySet(['d', { match: { namespaceSelector: { matchLabels: { egress: 'restricted' } } }, defaults: { tlsMode: 'Mutual', clientCertificateRef: { name: 'client' } } }]);
    const plain = (ns: string) => fqdnBackend('api.example.com', [{ number: 443, protocol: 'HTTP' }], {}, ns);
    expect(defaulted(plain('locked'), d, labels).after.spec.destination.ports[0].tls.mode).toBe('Mutual');
    expect(defaulted(plain('unlisted'), d, labels).after.spec.destination.ports[0].tls.mode).toBe('Simple');
  });
});

describe('defaults', () => {
  const p = policySet([
    'openai',
    {
      match: { hosts: ['*.openai.com'] },
      defaults: {
        tlsMode: 'Mutual',
        clientCertificateRef: { name: 'client-cert' },
        caBundleRef: [{ kind: 'ConfigMap', name: 'openai-ca' }],
        subjectAltNames: ['api.openai.com'],
        extensions: [{ name: 'creds', type: 'gateway.networking.k8s.io/CredentialInjector:v1', rawConfig: { secretRef: { name: 'k' } } }],
      },
    },
  ]);

  it('fill unset fields only, before the built-in TLS default, in one minimal patch', () => {
    const b = fqdnBackend('api.openai.com', [
      { number: 443, protocol: 'HTTP' },
      { number: 8443, protocol: 'HTTP', tls: { mode: 'Simple', subjectAltNames: ['mine.example.com'] } },
      { number: 9443, protocol: 'HTTP', tls: { mode: 'Simple', insecureSkipVerify: true } },
    ]);
    const r = defaulted(b, p);
    expect(r.droppedPolicyDefaults).toBe(false);
    const [p0, p1, p2] = r.after.spec.destination.ports;
    expect(p0.tls).toEqual({ mode: 'Mutual', sni: 'api.openai.com', clientCertificateRef: { name: 'client-cert' }, caBundleRef: [{ kind: 'ConfigMap', name: 'openai-ca' }], subjectAltNames: ['api.openai.com'] });
    // User-set subjectAltNames stay; only the CA bundle is added.
    expect(p1.tls).toEqual({ mode: 'Simple', subjectAltNames: ['mine.example.com'], caBundleRef: [{ kind: 'ConfigMap', name: 'openai-ca' }] });
    // Pinning trust next to insecureSkipVerify would be refused: left alone.
    expect(p2.tls).toEqual({ mode: 'Simple', insecureSkipVerify: true });
    expect(r.after.spec.extensions).toEqual([{ name: 'creds', type: 'gateway.networking.k8s.io/CredentialInjector:v1', rawConfig: { secretRef: { name: 'k' } } }]);
    expect(r.patch.every((op) => op.op === 'add')).toBe(true);
    expect(r.decisions.map((d) => d.rule).sort()).toEqual(['caBundleRef', 'clientCertificateRef', 'extensions', 'subjectAltNames', 'tlsMode']);
    expect(r.decisions.every((d) => d.policy === 'platform/openai' && d.action === 'default')).toBe(true);
  });

  it('are idempotent and the result passes validation with the policies in force', () => {
    const b = fqdnBackend('api.openai.com', [{ number: 443, protocol: 'HTTP' }]);
    const once = defaulted(b, p).after;
    expect(defaulted(once, p).patch).toEqual([]);
    const ctx = { policies: p, namespaces: NO_NAMESPACE_LABELS };
    const verdict = validateWithPolicies({ object: once, operation: 'CREATE', namespace: 'team-a' }, EMPTY_LOOKUP, OPTIONS, ctx);
    expect(verdict.errors.map(formatFieldError)).toEqual([]);
  });

  it('never append an extension whose kind or name is already there', () => {
    const b = fqdnBackend('api.openai.com', undefined, { extensions: [{ name: 'mine', type: 'gateway.networking.k8s.io/CredentialInjector:v2' }] });
    expect(defaulted(b, p).after.spec.extensions).toEqual([{ name: 'mine', type: 'gateway.networking.k8s.io/CredentialInjector:v2' }]);
    const clash = fqdnBackend('api.openai.com', undefined, { extensions: [{ name: 'creds', type: 'example.com/Other' }] });
    expect(defaulted(clash, p).after.spec.extensions).toHaveLength(1);
  });

  it('a policy TLS mode beats the built-in Simple; without policies the built-in applies', () => {
    const none = policySet(['plain', { match: { hosts: ['*.internal.example.com'] }, defaults: { tlsMode: 'None' } }]);
    const b = fqdnBackend('a.internal.example.com', [{ number: 80, protocol: 'HTTP' }]);
    expect(defaulted(b, none).after.spec.destination.ports[0].tls).toEqual({ mode: 'None' });
    expect(defaulted(fqdnBackend('other.example.com', [{ number: 80, protocol: 'HTTP' }]), none).after.spec.destination.ports[0].tls).toEqual({ mode: 'Simple', sni: 'other.example.com' });
  });

  it('are dropped when the result would fail validation (here: a policy forbids the default extension)', () => {
    const bad = policySet(
      ['adds', { match: { hosts: ['api.openai.com'] }, defaults: { extensions: [{ name: 'dbg', type: 'example.com/Debug' }] } }],
      ['forbids', { overrides: { forbiddenExtensions: { types: ['example.com/Debug'] } } }],
    );
    const r = defaulted(fqdnBackend('api.openai.com', [{ number: 443, protocol: 'HTTP' }]), bad);
    expect(r.droppedPolicyDefaults).toBe(true);
    expect(r.after.spec.extensions).toBeUndefined();
    expect(r.after.spec.destination.ports[0].tls).toEqual({ mode: 'Simple', sni: 'api.openai.com' }); // built-in still applied
  });
});
