/**
 * Which requests are judged: CREATE and UPDATE of the main resource. DELETE, CONNECT and the status
 * subresource are allowed unjudged; anything else (an operation the API server never sends, a
 * subresource our CRDs do not have) is refused in-band with code 400, never silently allowed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/admission/app.js';
import { reviewConfigMapRequest } from '../../src/admission/configmap-handler.js';
import { decodeReview } from '../../src/admission/review.js';
import { inject, injectServer } from '../reliability/helpers.js';
import { backend, openaiBackend, review } from '../support/reviews.js';

let app: App;
beforeAll(async () => {
  ({ app } = await injectServer());
});
afterAll(async () => {
  await app?.close();
});

/** Invalid on CREATE: would be denied with 422 if it were judged. */
const invalidBackend = (): any => backend({ destination: { type: 'Fqdn', fqdn: { hostname: 'api.openai.com' }, ports: [{ number: 443, protocol: 'HTTPS' }] } });

function withRequest(body: any, patch: Record<string, unknown>): string {
  Object.assign(body.request, patch);
  return JSON.stringify(body);
}

describe('unknown operations', () => {
  it.each(['', 'Create', 'create', 'PATCH', 'GET', 'UPDATE ', 'DELETECOLLECTION'])('operation %j is refused in-band with code 400 on both endpoints', async (operation) => {
    for (const path of ['/validate', '/mutate']) {
      for (const object of [openaiBackend(), invalidBackend()]) {
        const body = review(object);
        const res = await inject(app, path, withRequest(body, { operation }));
        expect(res.status).toBe(200);
        const r = res.json.response;
        expect(r).toMatchObject({ uid: body.request.uid, allowed: false, status: { code: 400, reason: 'BadRequest' }, auditAnnotations: { 'bad-request': 'UNSUPPORTED_OPERATION' } });
        expect(r.status.message).toContain(JSON.stringify(operation));
        expect(r.status.message).toMatch(/CREATE, UPDATE, DELETE, CONNECT/);
        expect(r.patch).toBeUndefined();
      }
    }
  });

  it('the four real operations keep their documented behaviour', async () => {
    for (const path of ['/validate', '/mutate']) {
      const del = review(null, { operation: 'DELETE', oldObject: invalidBackend() });
      expect((await inject(app, path, JSON.stringify(del))).json.response).toEqual({ uid: del.request.uid, allowed: true });
      const connect = review(null, { operation: 'CONNECT' });
      expect((await inject(app, path, JSON.stringify(connect))).json.response).toEqual({ uid: connect.request.uid, allowed: true });
    }
    const created = (await inject(app, '/validate', JSON.stringify(review(invalidBackend())))).json.response;
    expect(created.status.code).toBe(422);
    const updated = (await inject(app, '/validate', JSON.stringify(review(invalidBackend(), { operation: 'UPDATE', oldObject: openaiBackend() })))).json.response;
    expect(updated.status.code).toBe(422);
  });
});

describe('subresources', () => {
  it('status is allowed unjudged, on UPDATE and on any other real operation', async () => {
    for (const path of ['/validate', '/mutate']) {
      for (const operation of ['UPDATE', 'CREATE', 'DELETE'] as const) {
        const body = review(invalidBackend(), { operation, oldObject: invalidBackend(), subResource: 'status' });
        const r = (await inject(app, path, JSON.stringify(body))).json.response;
        expect(r).toEqual({ uid: body.request.uid, allowed: true });
      }
    }
  });

  it.each(['scale', 'Status', 'exec', 'status/extra'])('subresource %j (our CRDs have none but status) is refused in-band with code 400', async (subResource) => {
    for (const path of ['/validate', '/mutate']) {
      for (const operation of ['UPDATE', 'CREATE', 'DELETE', 'CONNECT'] as const) {
        const body = review(openaiBackend(), { operation, oldObject: openaiBackend(), subResource });
        const r = (await inject(app, path, JSON.stringify(body))).json.response;
        expect(r).toMatchObject({ uid: body.request.uid, allowed: false, status: { code: 400, reason: 'BadRequest' }, auditAnnotations: { 'bad-request': 'UNSUPPORTED_SUBRESOURCE' } });
        expect(r.status.message).toContain(JSON.stringify(subResource));
      }
    }
  });

  it('an empty subResource means the main resource (as the API server omits it)', async () => {
    const body = review(invalidBackend());
    const r = (await inject(app, '/validate', withRequest(body, { subResource: '' }))).json.response;
    expect(r.status.code).toBe(422);
  });
});

describe('the ConfigMap webhook', () => {
  const configMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'backend-webhook-system' }, data: {} };
  const request = (operation: string, subResource?: string) =>
    decodeReview({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: { uid: 'u', kind: { group: '', version: 'v1', kind: 'ConfigMap' }, operation, object: configMap, ...(subResource ? { subResource } : {}) },
    }).request;
  const ctx = { reviewers: [], isTrustedNamespace: () => true };

  it('refuses unknown operations and subresources with code 400, allows the real ones', () => {
    expect(reviewConfigMapRequest(request('Create'), ctx)).toMatchObject({ allowed: false, status: { code: 400 }, auditAnnotations: { 'bad-request': 'UNSUPPORTED_OPERATION' } });
    expect(reviewConfigMapRequest(request('UPDATE', 'status'), ctx)).toMatchObject({ allowed: false, status: { code: 400 }, auditAnnotations: { 'bad-request': 'UNSUPPORTED_SUBRESOURCE' } });
    expect(reviewConfigMapRequest(request('CREATE'), ctx)).toMatchObject({ allowed: true });
    expect(reviewConfigMapRequest(request('DELETE'), ctx)).toMatchObject({ allowed: true });
  });
});
