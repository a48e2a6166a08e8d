import { describe, expect, it } from 'vitest';
import { compileExtensionSchema, DEFAULT_COMPILE_LIMITS } from '../../src/schemas/compile.js';

const compileOk = (schema: unknown) => {
  const r = compileExtensionSchema(JSON.stringify(schema));
  if (!r.ok) throw new Error(`expected to compile: ${r.error.code}: ${r.error.message}`);
  return r;
};

describe('compileExtensionSchema', () => {
  it('compiles a 2020-12 schema (the default without $schema) and reports errors with JSON pointers', () => {
    const r = compileOk({
      type: 'object',
      required: ['categories'],
      properties: { categories: { type: 'array', items: { enum: ['search', 'fetch'] } } },
      additionalProperties: false,
    });
    expect(r.draft).toBe('2020-12');
    expect(r.validate({ categories: ['search'] })).toBe(true);
    expect(r.validate({ categories: ['search', 'nope'], extra: 1 })).toBe(false);
    const pointers = (r.validate.errors ?? []).map((e) => e.instancePath);
    // allErrors: both problems are reported, not only the first.
    expect(pointers).toContain('/categories/1');
    expect(pointers).toContain('');
  });

  it('uses 2020-12 semantics (prefixItems) when $schema says so, and draft-07 semantics (tuple items) for draft-07', () => {
    const modern = compileOk({ $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'array', prefixItems: [{ type: 'string' }] });
    expect(modern.draft).toBe('2020-12');
    expect(modern.validate([1])).toBe(false);
    expect(modern.validate(['a', 1])).toBe(true); // open tuple accepted (strictTuples off)

    const legacy = compileOk({ $schema: 'http://json-schema.org/draft-07/schema#', type: 'array', items: [{ type: 'string' }] });
    expect(legacy.draft).toBe('draft-07');
    expect(legacy.validate([1])).toBe(false);
    expect(legacy.validate(['a', 1])).toBe(true);
  });

  it('validates formats (ajv-formats)', () => {
    const r = compileOk({ type: 'object', properties: { url: { type: 'string', format: 'uri' } } });
    expect(r.validate({ url: 'https://example.com/x' })).toBe(true);
    expect(r.validate({ url: 'not a uri' })).toBe(false);
  });

  it('tolerates unknown keywords found in real-world schemas', () => {
    const r = compileOk({ type: 'object', 'x-kubernetes-preserve-unknown-fields': true, examples: [{}] });
    expect(r.validate({})).toBe(true);
  });

  it('evaluates a catastrophic pattern in linear time and still gives the right answer', () => {
    const r = compileOk({ type: 'object', properties: { name: { type: 'string', pattern: '^(a+)+$' } } });
    // With a backtracking engine this input takes astronomically long; here it simply completes.
    expect(r.validate({ name: `${'a'.repeat(50_000)}!` })).toBe(false);
    expect(r.validate({ name: 'a'.repeat(50_000) })).toBe(true);
  });

  it('applies patternProperties through the same engine, distinguishing patterns', () => {
    const r = compileOk({
      type: 'object',
      patternProperties: { '^x-': { type: 'string' }, '^n-': { type: 'number' } },
      additionalProperties: false,
    });
    expect(r.validate({ 'x-a': 's', 'n-b': 1 })).toBe(true);
    expect(r.validate({ 'x-a': 1 })).toBe(false);
    expect(r.validate({ 'n-b': 's' })).toBe(false);
    expect(r.validate({ other: 1 })).toBe(false);
  });

  it('refuses patterns the linear-time engine cannot run (lookaround), with the reason', () => {
    const r = compileExtensionSchema(JSON.stringify({ type: 'string', pattern: '^(?!admin).*$' }));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('UnsupportedPattern');
      expect(r.error.message).toContain('^(?!admin).*$');
    }
  });

  it('never fetches a remote $ref: it is a compile error', () => {
    const r = compileExtensionSchema(JSON.stringify({ $ref: 'https://schemas.example.com/remote.json' }));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('InvalidSchema');
      expect(r.error.message).toContain('remote.json');
    }
  });

  it('resolves local $refs ($defs)', () => {
    const r = compileOk({ $defs: { port: { type: 'integer', maximum: 65535 } }, type: 'object', properties: { p: { $ref: '#/$defs/port' } } });
    expect(r.validate({ p: 80 })).toBe(true);
    expect(r.validate({ p: 70000 })).toBe(false);
  });

  it.each([
    ['not JSON', '{"type": ', 'InvalidJSON'],
    ['an array', '[]', 'NotAnObject'],
    ['a boolean schema', 'true', 'NotAnObject'],
    ['an unsupported draft', JSON.stringify({ $schema: 'http://json-schema.org/draft-04/schema#' }), 'UnsupportedDraft'],
    ['an invalid keyword value', JSON.stringify({ type: 'strin' }), 'InvalidSchema'],
  ])('refuses %s', (_label, text, code) => {
    const r = compileExtensionSchema(text);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe(code);
      expect(r.error.message.length).toBeGreaterThan(0);
    }
  });

  it('refuses a schema larger than the size limit, saying so', () => {
    const big = JSON.stringify({ type: 'object', description: 'x'.repeat(DEFAULT_COMPILE_LIMITS.maxBytes) });
    const r = compileExtensionSchema(big);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('TooLarge');
      expect(r.error.message).toContain(String(DEFAULT_COMPILE_LIMITS.maxBytes));
    }
  });

  it('refuses a schema nested deeper than the depth limit', () => {
    let schema: Record<string, unknown> = { type: 'string' };
    for (let i = 0; i < 100; i++) schema = { type: 'object', properties: { a: schema } };
    const r = compileExtensionSchema(JSON.stringify(schema));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('TooDeep');
    // The same shape below the limit compiles.
    expect(compileExtensionSchema(JSON.stringify(schema), { maxBytes: 1 << 20, maxDepth: 1000 }).ok).toBe(true);
  });
});
