/** Extension-schema compilation: what could let every config pass, or leak output outside our logs. */
import { describe, expect, it } from 'vitest';
import { compileExtensionSchema } from '../../src/schemas/compile.js';

// ajv compiles `$async: true` into a validator that returns a Promise; a caller testing the result
// for truth would admit every config. Such schemas are refused at compile time instead.
describe('$async schemas', () => {
  it.each([
    ['at the root', { $async: true, type: 'object', properties: { a: { type: 'string' } } }],
    ['at the root of a draft-07 schema', { $schema: 'http://json-schema.org/draft-07/schema#', $async: true, type: 'object' }],
  ])('are refused %s, with a reason', (_where, schema) => {
    const r = compileExtensionSchema(JSON.stringify(schema));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('InvalidSchema');
      expect(r.error.message).toContain('$async');
    }
  });

  it('a synchronous schema with the same shape still compiles and judges', () => {
    const r = compileExtensionSchema(JSON.stringify({ type: 'object', properties: { a: { type: 'string' } } }));
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.validate({ a: 5 })).toBe(false);
      expect(r.validate({ a: 'x' })).toBe(true);
    }
  });
});

describe('ajv console output', () => {
  it('compiling a schema with an unknown format writes nothing to the console (the format is ignored)', async () => {
    const { vi } = await import('vitest');
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      const r = compileExtensionSchema(JSON.stringify({ type: 'object', properties: { v: { type: 'string', format: 'iri' } } }));
      expect(r.ok).toBe(true);
      if (r.ok) expect(r.validate({ v: 'not checked as an IRI' })).toBe(true);
      expect(warn).not.toHaveBeenCalled();
      expect(log).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
      log.mockRestore();
    }
  });
});
