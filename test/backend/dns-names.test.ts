import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hostnameSyntaxProblem } from '../../src/backend/rules/hostnames.js';
import { dns1123SubdomainProblem, isPlainDnsName } from '../../src/backend/rules/names.js';

// The one-scan fast path must accept exactly what the label-by-label rules accept.
const LABEL = '[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?';
const SUBDOMAIN = new RegExp(`^(?=.{1,253}$)${LABEL}(\\.${LABEL})*$`);
const oracle = (name: string, minLabels: number, lastMayBeNumeric: boolean): boolean =>
  SUBDOMAIN.test(name) && name.split('.').length >= minLabels && (lastMayBeNumeric || !/^[0-9]+$/.test(name.split('.').pop()!));

// Names built from the characters that matter: labels, dots, hyphens, digits, and some strangers.
const nameChars = fc.constantFrom('a', 'z', '0', '9', '-', '.', '.', 'A', '_', ':', '*', '[', ' ', 'é');
const names = fc.oneof(
  fc.string({ unit: nameChars, maxLength: 40 }),
  fc.array(fc.stringMatching(/^[a-z0-9-]{0,70}$/), { minLength: 1, maxLength: 6 }).map((labels) => labels.join('.')),
  fc.integer({ min: 240, max: 260 }).map((n) => 'a.'.repeat(n).slice(0, n)),
);

describe('isPlainDnsName', () => {
  it('agrees with the RFC 1123 regular expression on generated names', () => {
    fc.assert(
      fc.property(names, fc.integer({ min: 1, max: 3 }), fc.boolean(), (name, minLabels, lastMayBeNumeric) => {
        expect(isPlainDnsName(name, minLabels, lastMayBeNumeric)).toBe(oracle(name, minLabels, lastMayBeNumeric));
      }),
      { numRuns: 5000 },
    );
  });

  it.each([
    ['api.example.com', true],
    ['a.b', true],
    ['example', false], // one label
    ['10.0.0.1', false], // numeric last label
    ['x.123', false],
    ['123.x', true],
    ['-a.com', false],
    ['a-.com', false],
    ['a..com', false],
    ['a.com.', false],
    ['Api.example.com', false],
    [`${'a'.repeat(63)}.com`, true],
    [`${'a'.repeat(64)}.com`, false],
  ])('%s as a hostname: %s', (name, ok) => {
    expect(isPlainDnsName(name, 2, false)).toBe(ok);
    expect(hostnameSyntaxProblem(name) === undefined).toBe(ok);
  });

  it('leaves the reason to the full rules when the fast path says no', () => {
    expect(hostnameSyntaxProblem('Api.example.com')).toBe('must be lower case');
    expect(hostnameSyntaxProblem('10.0.0.1')).toMatch(/IP address/);
    expect(dns1123SubdomainProblem('a..b')).toMatch(/DNS-1123 subdomain/);
    expect(dns1123SubdomainProblem('a'.repeat(254))).toBe('must be at most 253 characters');
  });
});
