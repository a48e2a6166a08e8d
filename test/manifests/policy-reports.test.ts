/**
 * The optional policy-reports Component: renders with kustomize (kubectl's, a Go program) from an
 * overlay as documented, and the reports the audit writes fit the CRD's schema.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Ajv } from 'ajv';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { reportBodies, reportObject } from '../../src/audit/policy-report.js';
import { REPO } from '../support/built-program.js';
import { kubectl } from '../support/kubectl.js';
import { describeWithTool } from '../support/external-tool.js';

const crd = parseYaml(readFileSync(join(REPO, 'manifests/policy-reports/crd-policyreports.yaml'), 'utf8'));

describeWithTool('kubectl', 'policy-reports component through kustomize', () => {
  it('renders from an overlay (resources + components) with the CRD added', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bw-overlay-'));
    try {
      const manifests = relative(dir, join(REPO, 'manifests'));
      writeFileSync(join(dir, 'kustomization.yaml'), `resources: [${manifests}]\ncomponents: [${manifests}/policy-reports]\n`);
      const result = await kubectl('kubectl', ['kustomize', dir], { home: dir });
      expect(result.stderr).toBe('');
      const kinds = parseAllDocuments(result.stdout).map((d) => d.toJS() as { kind: string; metadata: { name: string } });
      expect(kinds.filter((k) => k.kind === 'CustomResourceDefinition').map((k) => k.metadata.name).sort()).toEqual([
        'backends.ainetworking.prototype.x-k8s.io',
        'policyreports.wgpolicyk8s.io',
        'xbackenddestinations.ainetworking.prototype.x-k8s.io',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}, ['version', '--client']);

describe('policy-reports component', () => {
  it('the reports the audit writes validate against the CRD schema', () => {
    const schema = crd.spec.versions[0].schema.openAPIV3Schema;
    const validate = new Ajv({ strict: false }).compile(schema);
    const bodies = reportBodies([
      { apiVersion: 'ainetworking.prototype.x-k8s.io/v0alpha0', kind: 'Backend', namespace: 'team-a', name: 'bad', uid: 'u1', result: { outcome: 'invalid', errors: [{ field: 'spec.destination.ip.address', reason: 'FieldValueForbidden', message: 'Forbidden: 169.254.169.254 is link-local', line: 1 }], warnings: ['spec.x: a warning'].map((message) => ({ message, line: 1 })) } },
      { apiVersion: 'ainetworking.prototype.x-k8s.io/v0alpha0', kind: 'Backend', namespace: 'team-a', name: 'good', result: { outcome: 'valid', errors: [], warnings: [] } },
    ]);
    const object = reportObject('wgpolicyk8s', 'team-a', bodies.get('team-a')!);
    expect(validate(object), JSON.stringify(validate.errors)).toBe(true);
    expect(object.summary).toEqual({ pass: 1, fail: 1, warn: 1, error: 0, skip: 0 });
    // A result outside the CRD's enum would be refused by the API server: the check can fail.
    expect(validate({ ...object, results: [{ policy: 'x', result: 'bogus' }] })).toBe(false);
  });
});
