/**
 * A policy's default extensions checked against the schemas registered now: warnings when the
 * policy is applied (webhook) or validated offline, because at admission such defaults are dropped.
 */
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { reviewConfigMapRequest } from '../../src/admission/configmap-handler.js';
import { DEFAULT_VALIDATION_OPTIONS } from '../../src/backend/options.js';
import { runOfflineValidation } from '../../src/offline/run.js';
import { defaultExtensionWarnings, policyReviewerWith } from '../../src/policies/default-extensions.js';
import type { PolicyDocument } from '../../src/policies/format.js';
import { compileExtensionSchema } from '../../src/schemas/compile.js';
import { EXTENSION_SCHEMA_LABEL } from '../../src/schemas/configmap.js';
import { MapSchemaLookup, type ExtensionSchema } from '../../src/schemas/registry.js';
import { policyCm } from './support.js';

const TYPE = 'example.com/RateLimit:v1';
const SCHEMA = { type: 'object', required: ['rps'], additionalProperties: false, properties: { rps: { type: 'integer', minimum: 1 } } };

function lookupWith(type: string, schema: unknown): MapSchemaLookup {
  const compiled = compileExtensionSchema(JSON.stringify(schema));
  if (!compiled.ok) throw new Error(compiled.error.message);
  const entry: ExtensionSchema = { type, origin: { kind: 'file', name: 'rate-limit' }, validate: compiled.validate };
  return new MapSchemaLookup(new Map([[type, entry]]));
}

const policy = (rawConfig: Record<string, unknown> | undefined, type = TYPE): PolicyDocument => ({
  match: { hosts: ['*.example.com'] },
  defaults: { extensions: [{ name: 'limit', type, ...(rawConfig ? { rawConfig } : {}) }] },
});

describe('defaultExtensionWarnings', () => {
  const lookup = lookupWith(TYPE, SCHEMA);

  it('says nothing when the default matches the registered schema', () => {
    expect(defaultExtensionWarnings(policy({ rps: 10 }), lookup)).toEqual([]);
  });

  it('names the field and the problem when the schema refuses the default, and what happens then', () => {
    const [warning, ...rest] = defaultExtensionWarnings(policy({ rps: 0 }), lookup);
    expect(rest).toEqual([]);
    // The consequence first; the field keeps its end when the whole would not fit in 119 characters.
    expect(warning).toBe("this policy's defaults are dropped at admission: ...rawConfig/rps: Invalid value: 0: must be greater than or equal to 1");
    expect(warning!.length).toBeLessThanOrEqual(119);
  });

  it('checks an absent rawConfig as an empty one', () => {
    expect(defaultExtensionWarnings(policy(undefined), lookup)[0]).toMatch(/rawConfig/);
  });

  it('says when no schema is registered for the type yet', () => {
    expect(defaultExtensionWarnings(policy({ rps: 1 }, 'example.com/Other:v1'), lookup)).toEqual([
      'rawConfig not checked: no schema registered yet: defaults/extensions/0: for type "example.com/Other:v1"',
    ]);
  });
});

describe('the ConfigMap webhook with policyReviewerWith', () => {
  const ctx = { reviewers: [policyReviewerWith(() => lookupWith(TYPE, SCHEMA))], isTrustedNamespace: () => true };
  const request = (object: unknown) => ({ uid: 'u', kind: { group: '', version: 'v1', kind: 'ConfigMap' }, operation: 'CREATE', namespace: 'platform', object, dryRun: false });

  it('admits the policy and warns about the default the schema refuses', () => {
    const verdict = reviewConfigMapRequest(request(policyCm('p', policy({ rps: 'many' }))), ctx);
    expect(verdict.allowed).toBe(true);
    expect(verdict.warnings).toHaveLength(1);
    expect(verdict.warnings![0]).toContain('rawConfig/rps');
  });

  it('does not add these warnings to a policy it refuses anyway', () => {
    const verdict = reviewConfigMapRequest(request(policyCm('p', 'overrides: {allowedPorts: {ports: [0]}}')), ctx);
    expect(verdict.allowed).toBe(false);
    expect(verdict.warnings).toBeUndefined();
  });
});

describe('offline validation', () => {
  it('warns on the policy ConfigMap when a schema ConfigMap in the same input refuses its default', async () => {
    const schemaCm = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'rate-limit', namespace: 'platform', labels: { [EXTENSION_SCHEMA_LABEL]: 'true' } },
      data: { type: TYPE, 'schema.json': JSON.stringify(SCHEMA) },
    };
    const text = `${stringify(schemaCm)}---\n${stringify(policyCm('limits', policy({ rps: 0 })))}`;
    const report = await runOfflineValidation(
      { paths: ['-'], schemaDirs: [], validation: DEFAULT_VALIDATION_OPTIONS, strict: false, showDefaults: false },
      { readStdin: async () => text },
    );
    const policyResult = report.results.find((r) => r.ref.name === 'limits');
    expect(policyResult?.errors).toEqual([]);
    expect(policyResult?.warnings.map((w) => w.message)).toEqual([expect.stringMatching(/^this policy's defaults are dropped at admission: .*rawConfig\/rps: Invalid value: 0/)]);
  });
});
