/**
 * Issue 12.2: what one object can cost to judge and to answer is bounded, and the verdict never
 * depends on the bounds (past them the object is still refused, with fewer problems named).
 */
import { describe, expect, it } from 'vitest';
import { invalidStatus } from '../../src/admission/review.js';
import { defaultBackend } from '../../src/backend/defaults.js';
import { errorBody, invalid, type FieldError } from '../../src/backend/field-errors.js';
import { MAX_CAUSES, MAX_COLLECTED_ISSUES, MAX_EXTENSIONS } from '../../src/backend/limits.js';
import { DEFAULT_VALIDATION_OPTIONS } from '../../src/backend/options.js';
import { validateBackend } from '../../src/backend/validate.js';
import { compileExtensionSchema } from '../../src/schemas/compile.js';
import { MapSchemaLookup, type ExtensionSchema } from '../../src/schemas/registry.js';
import { makeBackend } from './cases.js';

const TOOL_FILTER = 'example.com/ToolFilter';
function toolFilterLookup(): MapSchemaLookup {
  const compiled = compileExtensionSchema(
    JSON.stringify({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      additionalProperties: false,
      properties: { categories: { type: 'array', items: { enum: ['search', 'fetch'] } }, limit: { type: 'integer' } },
    }),
  );
  if (!compiled.ok) throw new Error(compiled.error.message);
  const schema: ExtensionSchema = { type: TOOL_FILTER, origin: { kind: 'file', name: 'tf', path: 'tf.json' }, validate: compiled.validate };
  return new MapSchemaLookup(new Map([[TOOL_FILTER, schema]]));
}
const schemas = toolFilterLookup();

const destination = { type: 'Fqdn', fqdn: { hostname: 'api.example.com' }, ports: [{ number: 443, protocol: 'HTTP' }] };
const judge = (spec: unknown, operation = 'CREATE', oldSpec?: unknown) =>
  validateBackend({ object: makeBackend(spec), operation, ...(oldSpec === undefined ? {} : { oldObject: makeBackend(oldSpec) }) }, schemas, DEFAULT_VALIDATION_OPTIONS);
const extension = (i: number, rawConfig: unknown = { categories: ['search'] }) => ({ name: `e${i}`, type: TOOL_FILTER, rawConfig });

describe('spec.extensions is bounded at 64 items', () => {
  it('64 are fine, 65 are TooMany at spec.extensions', () => {
    expect(judge({ destination, extensions: Array.from({ length: MAX_EXTENSIONS }, (_, i) => extension(i)) }).errors).toEqual([]);
    const errors = judge({ destination, extensions: Array.from({ length: MAX_EXTENSIONS + 1 }, (_, i) => extension(i)) }).errors;
    expect(errors).toEqual([expect.objectContaining({ type: 'FieldValueTooMany', field: 'spec.extensions', badValue: 65 })]);
    expect(errorBody(errors[0]!)).toBe('Too many: 65: must have at most 64 items');
  });

  it('a million bad items are refused with a handful of problems, not a million', () => {
    const errors = judge({ destination, extensions: new Array(1_000_000).fill(1) }).errors;
    expect(errors.map((e) => e.type)).toContain('FieldValueTooMany');
    expect(errors.length).toBeLessThanOrEqual(10);
  });

  it('items past the 64th are not judged by the rules (the list is refused anyway)', () => {
    const extensions = Array.from({ length: 5000 }, (_, i) => ({ name: `BAD_${i}`, type: 'not a type' }));
    const { errors } = judge({ destination, extensions });
    expect(errors.some((e) => e.type === 'FieldValueTooMany' && e.field === 'spec.extensions')).toBe(true);
    expect(errors.filter((e) => e.field.endsWith('.name')).length).toBeLessThanOrEqual(MAX_EXTENSIONS);
  });
});

describe('schema validation stops collecting when there are far more problems than can be named', () => {
  it('a rawConfig of 100,000 failing items gets its first problem, and is refused', () => {
    const { errors } = judge({ destination, extensions: [extension(0, { categories: new Array(100_000).fill('nope') })] });
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.length).toBeLessThanOrEqual(3);
    expect(errors[0]!.field).toMatch(/^spec\.extensions\[0\]\.rawConfig\/categories\/0$/);
  });

  it('a small rawConfig still gets every problem', () => {
    const { errors } = judge({ destination, extensions: [extension(0, { categories: ['a', 'b', 'c'], limit: 'x' })] });
    expect(errors.map((e) => e.field)).toEqual([
      'spec.extensions[0].rawConfig/categories/0',
      'spec.extensions[0].rawConfig/categories/1',
      'spec.extensions[0].rawConfig/categories/2',
      'spec.extensions[0].rawConfig/limit',
    ]);
  });

  it('collection stops at MAX_COLLECTED_ISSUES problems; the object stays refused', () => {
    const bad = { categories: new Array(1500).fill('nope') };
    const { errors } = judge({ destination, extensions: Array.from({ length: 64 }, (_, i) => extension(i, bad)) });
    expect(errors.length).toBeGreaterThan(MAX_CAUSES);
    expect(errors.length).toBeLessThanOrEqual(MAX_COLLECTED_ISSUES + 64);
  });

  it('an UPDATE whose collected problems are all unchanged, with more left uncounted, is still refused', () => {
    const bad = { categories: new Array(1500).fill('nope') };
    const spec = { destination, extensions: Array.from({ length: 64 }, (_, i) => extension(i, bad)) };
    const result = judge(spec, 'UPDATE', structuredClone(spec));
    expect(result.ratcheted.length).toBeGreaterThan(0);
    expect(result.errors).toEqual([expect.objectContaining({ field: 'spec', detail: expect.stringMatching(/more than 1000 problems/) })]);
  });
});

describe('a denial is bounded', () => {
  const target = { group: 'ainetworking.prototype.x-k8s.io', kind: 'Backend', name: 'big' };
  const errors = (n: number, field = (i: number) => `spec.f${i}`): FieldError[] => Array.from({ length: n }, (_, i) => invalid(field(i), i, 'is wrong'));

  it('names at most 100 causes, then one last cause "...: and N more"; the message the same ones', () => {
    const status = invalidStatus(target, errors(250));
    const causes = status.details!.causes;
    expect(causes).toHaveLength(MAX_CAUSES + 1);
    expect(causes[MAX_CAUSES - 1]!.field).toBe('spec.f99');
    expect(causes[MAX_CAUSES]).toEqual({ reason: 'FieldValueTooMany', field: '...', message: 'and 150 more' });
    expect(status.message).toMatch(/spec\.f99: Invalid value: 99: is wrong, \.\.\.: and 150 more\]$/);
    expect(status.message).not.toContain('spec.f100:');
  });

  it('100 causes or fewer are all named, without a last one', () => {
    expect(invalidStatus(target, errors(100)).details!.causes).toHaveLength(100);
    expect(invalidStatus(target, errors(1)).message).toBe('Backend.ainetworking.prototype.x-k8s.io "big" is invalid: spec.f0: Invalid value: 0: is wrong');
  });

  it('long fields and values are clipped, and the whole denial stays well under 64 KiB', () => {
    const huge = errors(1000, (i) => `spec.${'k'.repeat(100_000)}${i}`).map((e) => ({ ...e, badValue: '\u0001'.repeat(100_000), detail: 'd'.repeat(10_000) }));
    const status = invalidStatus(target, huge);
    const bytes = Buffer.byteLength(JSON.stringify(status));
    expect(bytes).toBeLessThan(60 * 1024);
    for (const c of status.details!.causes) {
      expect(c.field.length).toBeLessThanOrEqual(256);
      expect(c.message.length).toBeLessThanOrEqual(512);
    }
    expect(status.details!.causes.at(-1)).toMatchObject({ field: '...', message: expect.stringMatching(/^and \d+ more$/) });
  });

  it('a huge bad value is described, not printed', () => {
    expect(errorBody(invalid('spec.x', new Array(1_000_000).fill(0), 'must be a string'))).toBe('Invalid value: <array of 1000000 items>: must be a string');
  });
});

describe('defaulting leaves a port list the schema refuses alone', () => {
  const ports = (n: number) => Array.from({ length: n }, (_, i) => ({ number: 1000 + i, protocol: 'HTTP' }));
  it('64 ports are defaulted, 65 are not (the patch of a million ports would be megabytes)', () => {
    expect(defaultBackend(makeBackend({ destination: { ...destination, ports: ports(64) } })).patch).toHaveLength(64);
    expect(defaultBackend(makeBackend({ destination: { ...destination, ports: ports(65) } })).patch).toEqual([]);
  });
});
