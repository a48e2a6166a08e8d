/**
 * The XBackend and BackendTLSPolicy tables through the real HTTPS server: each case as an
 * AdmissionReview to /validate, in admission.k8s.io/v1 and v1beta1, with exact fields and reasons;
 * XBackend defaulting through /mutate (and a second pass, for idempotence); the guard is not
 * served on /mutate; DELETE and status writes are allowed unjudged.
 */
import jsonPatch from 'fast-json-patch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePatch, reviewOf } from '../support/reviews.js';
import { expectCaseVerdict } from '../support/verdicts.js';
import { TestServerPool, type TestServer } from '../support/test-server.js';
import { KIND_CASES, makeBackendTlsPolicy, makeXBackend } from './cases.js';

const pool = new TestServerPool();
const serverFor = (options: object | undefined): Promise<TestServer> => pool.for(options);

beforeAll(async () => {
  await serverFor(undefined);
});
afterAll(() => pool.close());

const VERSIONS = ['admission.k8s.io/v1', 'admission.k8s.io/v1beta1'] as const;

describe('served kinds through HTTPS /validate', () => {
  for (const c of KIND_CASES) {
    for (const apiVersion of VERSIONS) {
      it(`${c.name} (${apiVersion})`, async () => {
        const server = await serverFor(c.options);
        const body = reviewOf(c.object, { apiVersion, operation: c.operation ?? 'CREATE', oldObject: c.oldObject });
        const res = await server.client.postJson('/validate', body);
        expect(res.status).toBe(200);
        expect(res.json.apiVersion).toBe(apiVersion);
        const r = res.json.response;
        expect(r.uid).toBe(body.request.uid);
        expectCaseVerdict(r, c, true);
        if (!r.allowed) {
          expect(r.status.details.kind).toBe((c.object as { kind: string }).kind);
          expect(r.status.message).toMatch(new RegExp(`^${(c.object as { kind: string }).kind}\\.gateway\\.networking\\.(x-)?k8s\\.io "`));
        }
      });
    }
  }
});

describe('XBackend defaulting through HTTPS /mutate', () => {
  const bare = makeXBackend({ type: 'ExternalHostname', externalHostname: { hostname: 'api.anthropic.com' }, port: { number: 443 }, protocol: 'HTTP' });

  for (const apiVersion of VERSIONS) {
    it(`defaults TLS, minimally and idempotently, and the result passes /validate (${apiVersion})`, async () => {
      const server = await serverFor(undefined);
      const res = await server.client.postJson('/mutate', reviewOf(bare, { apiVersion }));
      expect(res.json.apiVersion).toBe(apiVersion);
      const r = res.json.response;
      expect(r.allowed).toBe(true);
      expect(r.patchType).toBe('JSONPatch');
      expect(decodePatch(r)).toEqual([{ op: 'add', path: '/spec/tls', value: { mode: 'ServerOnly', validation: { hostname: 'api.anthropic.com', wellKnownCACertificates: 'System' } } }]);
      expect(r.auditAnnotations).toMatchObject({ 'defaulted-count': '1', 'defaulted-fields': 'spec.tls' });

      const defaulted = jsonPatch.applyPatch(structuredClone(bare), decodePatch(r), false, false).newDocument;
      const again = (await server.client.postJson('/mutate', reviewOf(defaulted, { apiVersion }))).json.response;
      expect(again.allowed).toBe(true);
      expect(again.patch).toBeUndefined();
      const verdict = (await server.client.postJson('/validate', reviewOf(defaulted, { apiVersion }))).json.response;
      expect(verdict).toMatchObject({ allowed: true });
      expect(verdict.warnings).toBeUndefined();
    });
  }

  it('leaves an XBackend with tls, or H2C, unpatched', async () => {
    const server = await serverFor(undefined);
    for (const object of [makeXBackend({ ...bare.spec as object, tls: { mode: 'None' } }), makeXBackend({ ...bare.spec as object, protocol: 'H2C' })]) {
      const r = (await server.client.postJson('/mutate', reviewOf(object))).json.response;
      expect(r.allowed).toBe(true);
      expect(r.patch).toBeUndefined();
    }
  });
});

describe('what each endpoint serves', () => {
  it('the BackendTLSPolicy guard is a validating webhook only: /mutate refuses it as misconfiguration', async () => {
    const server = await serverFor(undefined);
    const r = (await server.client.postJson('/mutate', reviewOf(makeBackendTlsPolicy([{ group: '', kind: 'Service', name: 'llm' }])))).json.response;
    expect(r.allowed).toBe(false);
    expect(r.status.code).toBe(400);
    expect(r.status.message).toMatch(/^\/mutate serves .*XBackend, not gateway\.networking\.k8s\.io\/v1, Kind=BackendTLSPolicy/);
  });

  it('an XBackend of a version we do not serve is refused, never allowed', async () => {
    const server = await serverFor(undefined);
    const object = { ...makeXBackend({}), apiVersion: 'gateway.networking.x-k8s.io/v1alpha2' };
    const r = (await server.client.postJson('/validate', reviewOf(object))).json.response;
    expect(r.allowed).toBe(false);
    expect(r.status.code).toBe(400);
  });

  it('DELETE and the status subresource are allowed unjudged', async () => {
    const server = await serverFor(undefined);
    const bad = makeXBackend({ type: 'ExternalHostname', externalHostname: { hostname: '1.2.3.4' }, port: { port: 443 } });
    for (const opts of [{ operation: 'DELETE' as const }, { operation: 'UPDATE' as const, subResource: 'status', oldObject: bad }]) {
      const r = (await server.client.postJson('/validate', reviewOf(bad, opts))).json.response;
      expect(r).toMatchObject({ allowed: true });
      expect(r.status).toBeUndefined();
    }
  });

  it('counts decisions under the kind\'s own metric label', async () => {
    const server = await serverFor(undefined);
    await server.client.postJson('/validate', reviewOf(makeXBackend({ type: 'ExternalHostname', externalHostname: { hostname: '1.2.3.4' }, port: { port: 443 } })));
    await server.client.postJson('/validate', reviewOf(makeBackendTlsPolicy([{ group: 'gateway.networking.x-k8s.io', kind: 'XBackend', name: 'x' }])));
    const text = await server.metrics.registry.metrics();
    expect(text).toMatch(/backend_webhook_admission_requests_total\{endpoint="validate",kind="XBackend",operation="CREATE",result="denied"\} [1-9]/);
    expect(text).toMatch(/backend_webhook_admission_requests_total\{endpoint="validate",kind="BackendTLSPolicy",operation="CREATE",result="denied"\} [1-9]/);
  });
});
