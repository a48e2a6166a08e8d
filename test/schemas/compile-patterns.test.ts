import fc from 'fast-check';
import { RE2JS } from 're2js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { compileExtensionSchema } from '../../src/schemas/compile.js';
import { nativeEquivalent } from '../../src/schemas/linear-pattern.js';

const NAME = '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$';
const PATH = '^/[^?#]*$';

/** The patterns of bench/fixtures.mjs's route-policy schema, in the same shape. */
const routePolicySchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  required: ['rules'],
  additionalProperties: false,
  properties: {
    rules: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'match'],
        additionalProperties: false,
        properties: {
          name: { type: 'string', pattern: NAME },
          match: { type: 'object', additionalProperties: false, properties: { pathPrefix: { type: 'string', pattern: PATH } } },
        },
      },
    },
  },
};

const compileOk = (schema: unknown) => {
  const r = compileExtensionSchema(JSON.stringify(schema));
  if (!r.ok) throw new Error(`expected to compile: ${r.error.code}: ${r.error.message}`);
  return r.validate;
};

afterEach(() => {
  vi.restoreAllMocks();
});

describe('compileExtensionSchema: patterns on the native engine', () => {
  it('gives the same verdicts as RE2 for the route-policy schema', () => {
    expect(nativeEquivalent(NAME)).toBeDefined();
    expect(nativeEquivalent(PATH)).toBeDefined();
    const validate = compileOk(routePolicySchema);
    const name = RE2JS.compile(NAME);
    const path = RE2JS.compile(PATH);
    // Mostly strings built to match, some edited by one tricky character, some arbitrary.
    const tricky = fc.constantFrom('-', 'A', '.', '_', '\n', '\r', '?', '#', '\u2028', '😀', '\ud800', '');
    const nearly = (matching: fc.Arbitrary<string>) =>
      fc.oneof(
        matching,
        fc.tuple(matching, tricky, fc.boolean()).map(([s, c, atEnd]) => (atEnd ? `${s}${c}` : `${c}${s}`)),
        fc.string({ unit: 'binary', maxLength: 12 }),
      );
    const label = nearly(fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/));
    const pathPrefix = nearly(fc.stringMatching(/^\/[^?#]*$/));
    const seen = { valid: 0, invalid: 0 };
    fc.assert(
      fc.property(label, pathPrefix, (n, p) => {
        const expected = name.test(n) && path.test(p);
        expect(validate({ rules: [{ name: n, match: { pathPrefix: p } }] })).toBe(expected);
        seen[expected ? 'valid' : 'invalid']++;
      }),
      { numRuns: 3000, seed: 7 },
    );
    expect(seen.valid).toBeGreaterThan(200);
    expect(seen.invalid).toBeGreaterThan(200);
    // A few named cases at the edges.
    const ok = (n: string, p: string) => validate({ rules: [{ name: n, match: { pathPrefix: p } }] });
    expect(ok('a', '/')).toBe(true);
    expect(ok('a'.repeat(63), '/x/y')).toBe(true);
    expect(ok('a'.repeat(64), '/x')).toBe(false);
    expect(ok('-a', '/x')).toBe(false);
    expect(ok('a-', '/x')).toBe(false);
    expect(ok('a\n', '/x')).toBe(false); // `$` is end of text in both engines
    expect(ok('a', '/x\n')).toBe(true); // [^?#] matches \n in RE2
    expect(ok('a', '/x?y')).toBe(false);
  });

  it('runs fixture patterns natively and catastrophic ones on RE2', () => {
    const re2Calls = vi.spyOn(RE2JS.prototype, 'test');
    compileOk(routePolicySchema)({ rules: [{ name: 'a', match: { pathPrefix: '/' } }] });
    expect(re2Calls).not.toHaveBeenCalled();
    compileOk({ type: 'string', pattern: '(a+)+$' })('aab');
    expect(re2Calls).toHaveBeenCalled();
  });

  it.each(['(a+)+$', '^(a|a)*$', '\\d+\\d+$', '^(a|aa)*$'])('still answers a catastrophic pattern %j through RE2', (pattern) => {
    expect(nativeEquivalent(pattern)).toBeUndefined();
    const validate = compileOk({ type: 'string', pattern });
    const subject = pattern.startsWith('\\d') ? `${'1'.repeat(5000)}b` : `${'a'.repeat(5000)}b`;
    // On a backtracking engine this would run for minutes or longer; RE2 simply answers.
    expect(validate(subject)).toBe(false);
    expect(validate(pattern.startsWith('\\d') ? '12' : 'aa')).toBe(true);
  });

  it('still refuses a pattern RE2 refuses, even when its shape is in the native subset', () => {
    // RE2 limits nested repeats to 1,000 in total; the subset parser alone would accept this.
    expect(nativeEquivalent('^(a{2}){600}$')).toBeDefined();
    const r = compileExtensionSchema(JSON.stringify({ type: 'string', pattern: '^(a{2}){600}$' }));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('UnsupportedPattern');
  });

  it('keeps native and RE2 patterns apart in one schema (patternProperties and pattern)', () => {
    const validate = compileOk({
      type: 'object',
      patternProperties: { '^x-[a-z]+$': { type: 'string' }, '(a+)+$': { type: 'number' }, '^\\-': { type: 'boolean' } },
      properties: { id: { type: 'string', pattern: '^\\d+$' } },
    });
    expect(validate({ 'x-ab': 's', ba: 1, '-k': true, id: '42' })).toBe(true);
    expect(validate({ 'x-ab': 1 })).toBe(false);
    expect(validate({ ba: 's' })).toBe(false);
    expect(validate({ '-k': 1 })).toBe(false);
    expect(validate({ id: '4a' })).toBe(false);
  });
});
