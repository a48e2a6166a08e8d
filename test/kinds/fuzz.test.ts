/**
 * Hostile and random input for the new kinds, through the units (pure, as the server and the CLI run
 * them): validation never throws and every error is a well-formed field error; every XBackend
 * defaulting patch applies to the object it was computed for, and a second pass yields none.
 */
import fc from 'fast-check';
import jsonPatch from 'fast-json-patch';
import { describe, expect, it } from 'vitest';
import { DEFAULT_VALIDATION_OPTIONS } from '../../src/backend/options.js';
import { kindFor } from '../../src/kinds/registry.js';
import { EMPTY_LOOKUP } from '../../src/schemas/registry.js';
import { makeBackendTlsPolicy, makeXBackend } from './cases.js';

const SEED = Number(process.env.FUZZ_SEED ?? 0x4894);
const XBACKEND = kindFor({ group: 'gateway.networking.x-k8s.io', version: 'v1alpha1', kind: 'XBackend' })!;
const GUARD = kindFor({ group: 'gateway.networking.k8s.io', version: 'v1', kind: 'BackendTLSPolicy' })!;
const TYPES = new Set(['FieldValueRequired', 'FieldValueInvalid', 'FieldValueNotSupported', 'FieldValueForbidden', 'FieldValueDuplicate', 'FieldValueTooLong', 'FieldValueTooMany', 'FieldValueTypeInvalid', 'FieldValueUnknown']);

const host = fc.oneof(fc.constantFrom('api.openai.com', '1.2.3.4', 'localhost', '*.x.io', 'a.svc', 'A.b.c', ''), fc.domain(), fc.string());
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
const xbackendSpec = fc.record(
  {
    type: fc.oneof(fc.constant('ExternalHostname'), fc.anything()),
    externalHostname: fc.oneof(fc.record({ hostname: host }), fc.anything()),
    port: fc.oneof(fc.record({ port: fc.integer({ min: -1, max: 70000 }) }), fc.record({ number: fc.integer() }), fc.record({ name: fc.string(), port: fc.anything() }), fc.anything()),
    protocol: fc.oneof(fc.constantFrom('HTTP', 'H2C', 'HTTP2', 'WSS', 'GRPC'), fc.anything()),
    tls: fc.oneof(
      fc.record({
        mode: fc.oneof(fc.constantFrom('None', 'ServerOnly', 'ClientAndServer', 'Simple'), fc.anything()),
        clientCertificateRef: maybe(fc.record({ name: fc.string(), namespace: maybe(fc.oneof(fc.constantFrom('team-a', 'team-b'), fc.string())) })),
        validation: maybe(fc.record({ hostname: host, wellKnownCACertificates: maybe(fc.constantFrom('System', 'x')), subjectAltNames: maybe(fc.array(fc.record({ type: fc.constantFrom('Hostname', 'URI', 'x'), hostname: maybe(fc.string()), uri: maybe(fc.string()) }), { maxLength: 7 })) })),
      }, { requiredKeys: [] }),
      fc.anything(),
    ),
  },
  { requiredKeys: [] },
);

function wellFormed(result: ReturnType<typeof XBACKEND.validate>): void {
  for (const e of [...result.errors, ...result.ratcheted]) {
    expect(TYPES.has(e.type), e.type).toBe(true);
    expect(typeof e.field).toBe('string');
    // The pipeline's fail-closed answer means a rule threw: never for plain JSON.
    expect(e.detail ?? '').not.toMatch(/internal error/);
  }
  for (const w of result.warnings) expect(w.length).toBeLessThan(120);
}

describe('the new kinds under random input', () => {
  it('XBackend: validation never throws; defaulting applies and is idempotent', () => {
    fc.assert(
      fc.property(fc.oneof(xbackendSpec, fc.anything()), (spec) => {
        const object = makeXBackend(spec);
        const result = XBACKEND.validate({ object, operation: 'CREATE', namespace: 'team-a' }, EMPTY_LOOKUP, DEFAULT_VALIDATION_OPTIONS);
        wellFormed(result);
        const { patch } = XBACKEND.defaults!.patch(object);
        const clean = JSON.parse(JSON.stringify(object));
        const after = jsonPatch.applyPatch(clean, patch, true, false).newDocument;
        expect(XBACKEND.defaults!.patch(after).patch).toEqual([]);
        if (patch.length > 0) expect(patch).toEqual([expect.objectContaining({ op: 'add', path: '/spec/tls' })]);
      }),
      { seed: SEED, numRuns: 400 },
    );
  });

  it('BackendTLSPolicy guard: never throws; refuses only Backend-group kinds and XBackend, at the entry', () => {
    const ref = fc.oneof(fc.record({ group: fc.constantFrom('', 'ainetworking.prototype.x-k8s.io', 'gateway.networking.x-k8s.io'), kind: fc.constantFrom('Service', 'Backend', 'XBackend'), name: fc.string() }), fc.anything());
    fc.assert(
      fc.property(fc.oneof(fc.array(ref, { maxLength: 5 }), fc.anything()), (targetRefs) => {
        const result = GUARD.validate({ object: makeBackendTlsPolicy(targetRefs), operation: 'CREATE' }, EMPTY_LOOKUP, DEFAULT_VALIDATION_OPTIONS);
        wellFormed(result);
        const expected = Array.isArray(targetRefs)
          ? targetRefs.flatMap((r: any, i) =>
              r !== null && typeof r === 'object' && !Array.isArray(r) && (r.group === 'ainetworking.prototype.x-k8s.io' || (r.group === 'gateway.networking.x-k8s.io' && r.kind === 'XBackend')) ? [`spec.targetRefs[${i}]`] : [],
            )
          : [];
        expect(result.errors.map((e) => e.field)).toEqual(expected);
      }),
      { seed: SEED, numRuns: 400 },
    );
  });
});
