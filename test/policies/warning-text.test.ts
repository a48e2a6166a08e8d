/**
 * Policy warnings within the 119-character budget: the policy, the rule and the consequence always
 * survive; only the field and the problem are shortened (the example lost the policy name
 * and the rule: `unchanged, so allowed: spec.destination.ports[0].tls.insecureSkipVerify: ... policy
 * backend-webhook-system/tls-stri...`).
 */
import { describe, expect, it } from 'vitest';
import { MAX_WARNING_LENGTH } from '../../src/backend/validate.js';
import { defaultExtensionWarnings, DROPPED } from '../../src/policies/default-extensions.js';
import { evaluateOverrides } from '../../src/policies/evaluate.js';
import { parsePolicyText } from '../../src/policies/format.js';
import { NO_NAMESPACE_LABELS } from '../../src/policies/match.js';
import { compilePolicy, PolicySet } from '../../src/policies/policy-set.js';
import { headFirst, policyWarning } from '../../src/policies/warning-text.js';
import { compileExtensionSchema } from '../../src/schemas/compile.js';
import { MapSchemaLookup } from '../../src/schemas/registry.js';
import { fqdnBackend, policySet } from './support.js';

const skipVerify = (host: string) => fqdnBackend(host, [{ number: 443, protocol: 'HTTP', tls: { mode: 'Simple', sni: host, insecureSkipVerify: true } }]);

describe('ratcheted policy denials', () => {
  it('the issue example: policy, rule and consequence come first, within 119 characters', () => {
    const parsed = parsePolicyText('overrides: { forbidInsecureSkipVerify: {} }');
    if (!parsed.ok) throw new Error('policy does not parse');
    const policies = new PolicySet([compilePolicy(parsed.document, { kind: 'configmap', namespace: 'backend-webhook-system', name: 'tls-strict' })]);
    const object = skipVerify('api.openai.com');
    const v = evaluateOverrides({ object, oldObject: structuredClone(object), operation: 'UPDATE', namespace: 'team-a' }, { policies, namespaces: NO_NAMESPACE_LABELS });
    expect(v.errors).toEqual([]);
    expect(v.warnings).toHaveLength(1);
    const [w] = v.warnings;
    expect(w).toMatch(/^policy backend-webhook-system\/tls-strict \(forbidInsecureSkipVerify\): unchanged, so allowed: /);
    expect(w!.length).toBeLessThanOrEqual(MAX_WARNING_LENGTH);
  });

  it.each([
    ['a 253-character policy name', 'p'.repeat(253), 'api.openai.com'],
    ['a long hostname in the problem', 'tls-strict', `${'a'.repeat(60)}.${'b'.repeat(60)}.example.com`],
  ])('%s: still names the rule and the consequence, and a recognisable policy', (_what, name, host) => {
    const policies = policySet([name, { overrides: { forbidInsecureSkipVerify: {}, requireSniMatchesHostname: { action: 'warn' } } }]);
    const object = fqdnBackend(host, [{ number: 443, protocol: 'HTTP', tls: { mode: 'Simple', sni: 'other.example.com', insecureSkipVerify: true } }]);
    const v = evaluateOverrides({ object, oldObject: structuredClone(object), operation: 'UPDATE', namespace: 'team-a' }, { policies, namespaces: NO_NAMESPACE_LABELS });
    expect(v.warnings).toHaveLength(2);
    for (const w of v.warnings) {
      expect(w.length).toBeLessThanOrEqual(MAX_WARNING_LENGTH);
      expect(w).toMatch(/^policy platform\/p*(\.\.\.)?p*[a-z-]* \((forbidInsecureSkipVerify\): unchanged, so allowed|requireSniMatchesHostname\)): /);
    }
  });
});

describe('policyWarning / headFirst', () => {
  it('short enough: unchanged', () => {
    expect(policyWarning({ policy: 'platform/openai', rule: 'allowedPorts', field: 'ports[0].number', problem: 'port 8443 is not allowed (allowed: 443)' })).toBe(
      'policy platform/openai (allowedPorts): ports[0].number: port 8443 is not allowed (allowed: 443)',
    );
  });

  it('too long: the field keeps its end, then the problem is cut; the head never is', () => {
    const head = 'policy backend-webhook-system/tls-strict (forbidInsecureSkipVerify): unchanged, so allowed';
    const w = headFirst(head, 'spec.destination.ports[12].tls.insecureSkipVerify', 'must not be true (certificate verification is required)');
    expect(w.startsWith(`${head}: `)).toBe(true);
    expect(w.length).toBeLessThanOrEqual(MAX_WARNING_LENGTH);
    expect(w).toMatch(/: \.\.\.\w*SkipVerify: must/);
  });

  it('the ConfigMap webhook says the consequence of a refused default first', () => {
    const compiled = compileExtensionSchema(JSON.stringify({ type: 'object', required: ['secretRef'], properties: { secretRef: { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1 } } } } }));
    if (!compiled.ok) throw new Error(compiled.error.message);
    const type = 'gateway.networking.k8s.io/CredentialInjector:v1';
    const lookup = new MapSchemaLookup(new Map([[type, { type, origin: { kind: 'file' as const, name: 'x' }, validate: compiled.validate }]]));
    const [w] = defaultExtensionWarnings({ defaults: { extensions: [{ name: 'openai-credentials', type, rawConfig: { secretRef: { name: '' } } }] } }, lookup);
    expect(w!.startsWith(`${DROPPED}: `)).toBe(true);
    expect(w!.length).toBeLessThanOrEqual(MAX_WARNING_LENGTH);
    expect(w).toBe(`${DROPPED}: defaults/extensions/0/rawConfig/secretRef/name: Required value`);
  });
});
