import { describe, expect, it } from 'vitest';
import { formatFieldError } from '../../src/backend/field-errors.js';
import { EXTENSION_TYPE_HINT, extensionTypeProblem, readRegistration, reviewSchemaConfigMap } from '../../src/schemas/configmap.js';
import type { ConfigMapObject } from '../../src/schemas/source.js';

const cm = (data: Record<string, string>): ConfigMapObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'x', namespace: 'platform', labels: { 'ainetworking.prototype.x-k8s.io/extension-schema': 'true' } },
  data,
});

const GOOD_SCHEMA = JSON.stringify({ type: 'object', properties: { a: { type: 'string' } } });

describe('extension type syntax', () => {
  it.each(['gateway.networking.k8s.io/CredentialInjector:v1', 'example.com/ToolFilter', 'istio.io/A2a:v12', 'local/Kind'])('accepts %s', (t) => {
    expect(extensionTypeProblem(t)).toBeUndefined();
  });
  it.each([
    'CredentialInjector',
    'example.com/toolFilter',
    'Example.com/ToolFilter',
    'example.com/ToolFilter:1',
    'example.com/ToolFilter:v1beta1',
    'example..com/ToolFilter',
    '-example.com/ToolFilter',
    'example.com/Tool/Filter',
    `${'a'.repeat(250)}.com/Kind`,
  ])('refuses %s', (t) => {
    expect(extensionTypeProblem(t)).toBeDefined();
  });
});

describe('readRegistration', () => {
  it('reads type, schema text and description', () => {
    const r = readRegistration(cm({ type: 'example.com/ToolFilter', 'schema.json': GOOD_SCHEMA, description: 'filters tools' }));
    expect(r).toEqual({ ok: true, registration: { type: 'example.com/ToolFilter', schemaText: GOOD_SCHEMA, description: 'filters tools' } });
  });
  it('reports missing keys at their paths', () => {
    const r = readRegistration(cm({}));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map((e) => `${e.field}:${e.type}`)).toEqual(['data.type:FieldValueRequired', 'data[schema.json]:FieldValueRequired']);
  });
});

describe('reviewSchemaConfigMap', () => {
  it('accepts a good ConfigMap', () => {
    expect(reviewSchemaConfigMap(cm({ type: 'example.com/ToolFilter', 'schema.json': GOOD_SCHEMA }))).toEqual([]);
  });

  it('refuses schema.json that is not JSON, saying so', () => {
    const errors = reviewSchemaConfigMap(cm({ type: 'example.com/ToolFilter', 'schema.json': '{"type": "object",' }));
    expect(errors).toHaveLength(1);
    expect(formatFieldError(errors[0]!)).toMatch(/^data\[schema\.json\]: Invalid value: not valid JSON/);
  });

  it('refuses a schema that does not compile, with the compile error', () => {
    const errors = reviewSchemaConfigMap(cm({ type: 'example.com/ToolFilter', 'schema.json': JSON.stringify({ type: 'strin' }) }));
    expect(errors).toHaveLength(1);
    expect(errors[0]!.field).toBe('data[schema.json]');
    expect(errors[0]!.detail).toMatch(/not a compilable schema: .*type/);
  });

  it('refuses a non-object schema', () => {
    const errors = reviewSchemaConfigMap(cm({ type: 'example.com/ToolFilter', 'schema.json': '["a"]' }));
    expect(errors.map((e) => e.detail)).toEqual(['the schema must be a JSON object']);
  });

  it('refuses a malformed type and still reports the schema problem in the same answer', () => {
    const errors = reviewSchemaConfigMap(cm({ type: 'ToolFilter', 'schema.json': 'nope' }));
    expect(errors.map(formatFieldError)).toEqual([
      expect.stringMatching(/^data\.type: Invalid value: "ToolFilter": must be <dns-subdomain>\/<Kind>/),
      expect.stringMatching(/^data\[schema\.json\]: Invalid value: not valid JSON/),
    ]);
  });

  it('refuses an over-long description', () => {
    const errors = reviewSchemaConfigMap(cm({ type: 'example.com/ToolFilter', 'schema.json': GOOD_SCHEMA, description: 'd'.repeat(2000) }));
    expect(errors.map((e) => `${e.field}:${e.type}`)).toEqual(['data.description:FieldValueTooLong']);
  });
});

describe('extensionTypeProblem, remembered', () => {
  it('gives the same answers on repeated and interleaved calls, past the memory bound', () => {
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 3000; i++) {
        expect(extensionTypeProblem(`team${i}.example.com/Kind${i}:v1`)).toBeUndefined();
        expect(extensionTypeProblem(`Team${i}.example.com/Kind`)).toBe(EXTENSION_TYPE_HINT);
      }
    }
    // Long strings are judged every time, and still correctly.
    const longPrefix = `${'a'.repeat(300)}.${'b'.repeat(300)}`;
    expect(extensionTypeProblem(`${longPrefix}/Kind`)).toMatch(/at most 253/);
    expect(extensionTypeProblem(`${longPrefix}/Kind`)).toMatch(/at most 253/);
  });
});
