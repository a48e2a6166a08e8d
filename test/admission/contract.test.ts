/** The admission contract, to the letter (docs/admission-contract.md), through the real HTTPS server. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import jsonpatch from 'fast-json-patch';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expectOneLinePerAdmission } from '../support/log-capture.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { AUDIT_KEY, backend, decodePatch, openaiBackend, review } from '../support/reviews.js';

let server: TestServer;
// Upstream test data (sources and licences in each .source.txt).
const FIXTURES = join(import.meta.dirname, '../fixtures/admission');

beforeAll(async () => {
  // At the default level, logged as production logs: every admission leaves one line that parses.
  server = await startTestServer({ captureLogs: true });
});
afterEach(async () => {
  await expectOneLinePerAdmission(server.log!, server.answers);
  server.log!.clear();
  server.answers.length = 0;
});
afterAll(async () => {
  await server?.close();
});

const invalidBackend = () =>
  backend({
    destination: {
      type: 'Fqdn',
      fqdn: { hostname: 'api.openai.com' },
      ports: [
        { number: 443, protocol: 'HTTP' },
        { number: 443, protocol: 'HTTP' },
      ],
    },
  });

describe('envelope', () => {
  for (const apiVersion of ['admission.k8s.io/v1', 'admission.k8s.io/v1beta1'] as const) {
    for (const path of ['/validate', '/mutate']) {
      it(`${path} echoes uid and ${apiVersion}`, async () => {
        const body = review(openaiBackend(), { apiVersion });
        const res = await server.client.postJson(path, body);
        expect(res.status).toBe(200);
        expect(res.headers['content-type']).toMatch(/^application\/json/);
        expect(res.json.apiVersion).toBe(apiVersion);
        expect(res.json.kind).toBe('AdmissionReview');
        expect(res.json.response.uid).toBe(body.request.uid);
        expect(typeof res.json.response.allowed).toBe('boolean');
        expect(Object.keys(res.json)).toEqual(['apiVersion', 'kind', 'response']);
      });
    }
  }
});

describe('mutating', () => {
  it('returns a base64 JSONPatch that defaults TLS on an external FQDN', async () => {
    const object = openaiBackend();
    const res = await server.client.postJson('/mutate', review(object));
    const r = res.json.response;
    expect(r.allowed).toBe(true);
    expect(r.patchType).toBe('JSONPatch');
    expect(decodePatch(r)).toEqual([{ op: 'add', path: '/spec/destination/ports/1/tls', value: { mode: 'Simple', sni: 'api.openai.com' } }]);
    expect(r.auditAnnotations['defaulted-count']).toBe('1');
    expect(r.auditAnnotations['defaulted-fields']).toBe('spec.destination.ports[1].tls');
    expect(r.warnings).toBeUndefined(); // the validating webhook says warnings, once
  });

  it('applies cleanly, validates, and is idempotent (no patch, no patchType on the second pass)', async () => {
    const object = openaiBackend();
    const first = (await server.client.postJson('/mutate', review(object))).json.response;
    const patched = jsonpatch.applyPatch(structuredClone(object), decodePatch(first), true, false).newDocument;
    const validated = (await server.client.postJson('/validate', review(patched))).json.response;
    expect(validated.allowed).toBe(true);
    const second = (await server.client.postJson('/mutate', review(patched))).json.response;
    expect(second.allowed).toBe(true);
    expect(second).not.toHaveProperty('patch');
    expect(second).not.toHaveProperty('patchType');
  });

  it('leaves a malformed object unpatched and allowed (the validating webhook explains)', async () => {
    for (const spec of [null, 'x', { destination: 7 }, { destination: { type: 'Fqdn', ports: 'nope' } }, { destination: { type: 'Fqdn', fqdn: { hostname: 1 }, ports: [{}] } }]) {
      const res = await server.client.postJson('/mutate', review(backend(spec)));
      expect(res.status).toBe(200);
      expect(res.json.response.allowed).toBe(true);
      expect(res.json.response).not.toHaveProperty('patch');
    }
  });

  it('does not patch an Ip destination', async () => {
    const res = await server.client.postJson('/mutate', review(backend({ destination: { type: 'Ip', ip: { address: '10.1.2.3' }, ports: [{ number: 80, protocol: 'HTTP' }] } })));
    expect(res.json.response).not.toHaveProperty('patch');
  });
});

describe('validating', () => {
  it('never carries a patch', async () => {
    for (const object of [openaiBackend(), invalidBackend()]) {
      const r = (await server.client.postJson('/validate', review(object))).json.response;
      expect(r).not.toHaveProperty('patch');
      expect(r).not.toHaveProperty('patchType');
    }
  });

  it('denies with code 422, reason Invalid, details and one cause per field error', async () => {
    const r = (await server.client.postJson('/validate', review(invalidBackend()))).json.response;
    expect(r.allowed).toBe(false);
    expect(r.status).toMatchObject({ status: 'Failure', code: 422, reason: 'Invalid' });
    expect(r.status.details).toMatchObject({ kind: 'Backend', name: 'openai', group: 'ainetworking.prototype.x-k8s.io' });
    expect(r.status.details.causes).toEqual([{ reason: 'FieldValueDuplicate', message: 'Duplicate value: 443', field: 'spec.destination.ports[1].number' }]);
    expect(r.status.message).toBe('Backend.ainetworking.prototype.x-k8s.io "openai" is invalid: spec.destination.ports[1].number: Duplicate value: 443');
    expect(r.auditAnnotations).toMatchObject({ 'validation-result': 'denied', 'validation-errors': '1' });
  });

  it('reports every problem at once, for XBackendDestination too', async () => {
    const object = backend({ destination: { type: 'Ip', ip: { address: '169.254.169.254' }, ports: [{ number: 0, protocol: 'SMTP' }] } }, 'meta', 'XBackendDestination');
    const r = (await server.client.postJson('/validate', review(object))).json.response;
    expect(r.allowed).toBe(false);
    expect(r.status.details.kind).toBe('XBackendDestination');
    const fields = r.status.details.causes.map((c: any) => c.field);
    expect(fields).toEqual(expect.arrayContaining(['spec.destination.ip.address', 'spec.destination.ports[0].number', 'spec.destination.ports[0].protocol']));
    expect(r.status.message).toMatch(/^XBackendDestination\.ainetworking\.prototype\.x-k8s\.io "meta" is invalid: \[/);
  });

  it('answers warnings under 120 characters and audit annotations with valid keys', async () => {
    const object = backend({ destination: { type: 'Fqdn', fqdn: { hostname: 'api.example.com' }, ports: [{ number: 80, protocol: 'HTTP', tls: { mode: 'None' } }] } });
    const r = (await server.client.postJson('/validate', review(object))).json.response;
    expect(r.allowed).toBe(true);
    expect(r.warnings.length).toBeGreaterThan(0);
    for (const w of r.warnings) {
      expect(w.length).toBeLessThan(120);
      expect(w).not.toMatch(/[\u0000-\u001f]/);
    }
    for (const key of Object.keys(r.auditAnnotations)) {
      expect(key).toMatch(AUDIT_KEY);
      expect(key.length).toBeLessThanOrEqual(63);
    }
    expect(r.auditAnnotations['validation-warnings']).toBe(String(r.warnings.length));
  });

  it('judges dryRun requests exactly like real ones', async () => {
    for (const object of [openaiBackend(), invalidBackend()]) {
      for (const path of ['/validate', '/mutate']) {
        const real = (await server.client.postJson(path, review(object, { uid: 'same' }))).json.response;
        const dry = (await server.client.postJson(path, review(object, { uid: 'same', dryRun: true }))).json.response;
        expect(dry).toEqual(real);
      }
    }
  });

  it('allows DELETE without object, with explicit null object', async () => {
    for (const path of ['/validate', '/mutate']) {
      const body = review(null, { operation: 'DELETE', oldObject: invalidBackend() });
      expect(body.request.object).toBeNull();
      const r = (await server.client.postJson(path, body)).json.response;
      expect(r).toEqual({ uid: body.request.uid, allowed: true });
    }
  });

  it('does not judge the status subresource', async () => {
    const body = review(invalidBackend(), { operation: 'UPDATE', oldObject: invalidBackend(), subResource: 'status' });
    expect((await server.client.postJson('/validate', body)).json.response.allowed).toBe(true);
  });
});

describe('real captured AdmissionReviews (other kinds)', () => {
  const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.json'));
  it('has fixtures to read', () => {
    expect(files.length).toBeGreaterThanOrEqual(7);
  });
  for (const file of files) {
    for (const path of ['/validate', '/mutate']) {
      it(`${file} on ${path}: well-formed refusal in the version asked`, async () => {
        const body = JSON.parse(readFileSync(join(FIXTURES, file), 'utf8'));
        const res = await server.client.postJson(path, body);
        expect(res.status).toBe(200);
        expect(res.json.apiVersion).toBe(body.apiVersion);
        expect(res.json.response.uid).toBe(body.request.uid);
        expect(res.json.response.allowed).toBe(false);
        expect(res.json.response.status.code).toBe(400);
        expect(res.json.response.status.message).toMatch(/check the webhook configuration/);
        expect(res.json.response).not.toHaveProperty('patch');
      });
    }
  }
});
