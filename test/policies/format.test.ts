import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatFieldError } from '../../src/backend/field-errors.js';
import { reviewConfigMapRequest } from '../../src/admission/configmap-handler.js';
import { extensionSchemaReviewer } from '../../src/schemas/configmap.js';
import { configMapsFromText } from '../../src/schemas/file-source.js';
import { parsePolicyText, POLICY_LABEL, policyReviewer, readPolicyConfigMap } from '../../src/policies/format.js';
import { policyCm } from './support.js';

const messages = (text: string): string[] => {
  const r = parsePolicyText(text);
  return r.ok ? [] : r.errors.map(formatFieldError);
};

describe('policy format', () => {
  it('the example policy ConfigMaps in schemas/policies/ are labelled and valid', () => {
    const dir = new URL('../../schemas/policies/', import.meta.url).pathname;
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThanOrEqual(2);
    for (const file of files) {
      const read = configMapsFromText(readFileSync(path.join(dir, file), 'utf8'));
      expect(read.ok).toBe(true);
      if (!read.ok) continue;
      for (const cm of read.configMaps) {
        expect(cm.metadata.labels?.[POLICY_LABEL], file).toBe('true');
        const parsed = readPolicyConfigMap(cm);
        expect(parsed.ok ? [] : parsed.errors.map(formatFieldError), file).toEqual([]);
      }
    }
  });

  it('an empty document is a valid policy that matches everything and does nothing', () => {
    expect(parsePolicyText('')).toEqual({ ok: true, document: {} });
  });

  it('reports schema problems at JSON pointers under data[policy.yaml]', () => {
    const errs = messages('overrides:\n  allowedTlsModes: {modes: [Simpel]}\n  bogus: 1\n');
    expect(errs).toContain('data[policy.yaml]/overrides/bogus: Unknown field');
    expect(errs.some((e) => e.startsWith('data[policy.yaml]/overrides/allowedTlsModes/modes/0: Unsupported value: "Simpel"'))).toBe(true);
  });

  it('checks hosts, CIDRs, references and contradictions beyond the schema', () => {
    const errs = messages(
      [
        'match: {hosts: ["*.ok.com", "localhost"], cidrs: ["10.0.0.0/33"]}',
        'overrides:',
        '  allowedTlsModes: {modes: [Simple]}',
        '  requiredExtensions: {types: [example.com/Audit]}',
        '  forbiddenExtensions: {types: ["example.com/Audit:v2"]}',
        'defaults:',
        '  tlsMode: None',
        '  caBundleRef: [{kind: ClusterTrustBundle, name: b, namespace: x, group: certificates.k8s.io}]',
      ].join('\n'),
    );
    expect(errs).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^data\[policy\.yaml\]\/match\/hosts\/1: Invalid value: "localhost"/),
        expect.stringMatching(/^data\[policy\.yaml\]\/match\/cidrs\/0: Invalid value: "10\.0\.0\.0\/33"/),
        expect.stringMatching(/^data\[policy\.yaml\]\/overrides\/forbiddenExtensions\/types\/0: .*requiredExtensions/),
        expect.stringMatching(/^data\[policy\.yaml\]\/defaults\/tlsMode: .*allowedTlsModes/),
        expect.stringMatching(/^data\[policy\.yaml\]\/defaults\/caBundleRef\/0\/namespace: .*cluster-scoped/),
      ]),
    );
    expect(errs).toHaveLength(5);
  });

  it('requires a client certificate with a Mutual default and bounds YAML aliases', () => {
    expect(messages('defaults: {tlsMode: Mutual}')).toEqual(['data[policy.yaml]/defaults: Required value: must have the property "clientCertificateRef"']);
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 9 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}]`)].join('\n');
    expect(messages(bomb)[0]).toMatch(/^data\[policy\.yaml\]: Invalid value: not valid YAML/);
    expect(messages('a: [\n')[0]).toMatch(/not valid YAML/);
  });

  it('a ConfigMap without policy.yaml is refused', () => {
    const r = readPolicyConfigMap({ metadata: { name: 'x' }, data: {} });
    expect(r.ok ? [] : r.errors.map(formatFieldError)).toEqual([expect.stringMatching(/^data\[policy\.yaml\]: Required value/)]);
  });
});

describe('the ConfigMap webhook with the policy reviewer', () => {
  const ctx = { reviewers: [extensionSchemaReviewer, policyReviewer], isTrustedNamespace: (ns: string) => ns === 'platform' };
  const request = (object: unknown) => ({
    uid: 'u',
    kind: { group: '', version: 'v1', kind: 'ConfigMap' },
    operation: 'CREATE',
    namespace: (object as { metadata: { namespace: string } }).metadata.namespace,
    object,
    dryRun: false,
  });

  it('refuses a broken policy with the reason and the field', () => {
    const verdict = reviewConfigMapRequest(request(policyCm('p', 'overrides: {allowedPorts: {ports: [0]}}')), ctx);
    expect(verdict.allowed).toBe(false);
    expect(verdict.status?.details?.causes?.[0]?.field).toBe('data[policy.yaml]/overrides/allowedPorts/ports/0');
    expect(verdict.status?.message).toContain('must be between 1 and 65535');
  });

  it('accepts a good policy, and warns when its namespace is not trusted', () => {
    const good = { match: { hosts: ['api.openai.com'] }, overrides: { forbidInsecureSkipVerify: {} } };
    expect(reviewConfigMapRequest(request(policyCm('p', good)), ctx)).toMatchObject({ allowed: true });
    const elsewhere = reviewConfigMapRequest(request(policyCm('p', good, { namespace: 'team-a' })), ctx);
    expect(elsewhere.allowed).toBe(true);
    expect(elsewhere.warnings).toEqual(['namespace team-a is not trusted: this backend policy will be ignored']);
  });
});
