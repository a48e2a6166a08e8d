/**
 * Our own failures, judging or encoding the answer, are answered in-band and fail closed (denied,
 * code 500, no internals), in the review version asked: never an HTTP 500 to the API server.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Verdict } from '../../src/admission/review.js';
import { openaiBackend, review } from '../support/reviews.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { metricValue } from '../support/metrics-text.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({
    extraEndpoints: [
      {
        path: '/broken',
        name: 'broken',
        handle: () => {
          throw new Error('secret internal detail');
        },
      },
      // Verdicts encodeReview refuses or cannot serialise: the failure is ours, after judging.
      { path: '/patch-without-type', name: 'patch-without-type', handle: (): Verdict => ({ allowed: true, patch: 'W10=' }) },
      { path: '/unserialisable', name: 'unserialisable', handle: () => ({ allowed: true, auditAnnotations: { n: 1n } }) as unknown as Verdict },
    ],
  });
});
afterAll(async () => {
  await server?.close();
});

const internalErrors = async (source: string): Promise<number> =>
  metricValue(await server.metrics.registry.getSingleMetricAsString('backend_webhook_internal_errors_total'), 'backend_webhook_internal_errors_total', { source }) ?? 0;

it('denies with code 500 inside a well-formed AdmissionReview, without internals', async () => {
  const body = review(openaiBackend());
  const res = await server.client.postJson('/broken', body);
  expect(res.status).toBe(200);
  expect(res.json.response).toMatchObject({ uid: body.request.uid, allowed: false, status: { code: 500, reason: 'InternalError' } });
  expect(res.text).not.toMatch(/secret internal detail/);
  expect(await internalErrors('processor')).toBe(1);
  // An answer that is not a verdict on the object counts as result="error" (the error-ratio alert).
  const requests = await server.metrics.registry.getSingleMetricAsString('backend_webhook_admission_requests_total');
  expect(metricValue(requests, 'backend_webhook_admission_requests_total', { endpoint: 'broken', kind: 'Backend', operation: 'CREATE', result: 'error' })).toBe(1);
  expect(requests).not.toMatch(/endpoint="broken"[^}]*result="denied"/);
  // And the server goes on serving.
  expect((await server.client.postJson('/validate', review(openaiBackend()))).json.response.allowed).toBe(true);
});

it.each(['/patch-without-type', '/unserialisable'])('a verdict that cannot be encoded (%s) is denied in-band in the version asked, never an HTTP 500', async (path) => {
  const before = await internalErrors('encoder');
  for (const apiVersion of ['admission.k8s.io/v1', 'admission.k8s.io/v1beta1'] as const) {
    const body = review(openaiBackend(), { apiVersion });
    const res = await server.client.postJson(path, body);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ apiVersion, kind: 'AdmissionReview' });
    expect(res.json.response).toEqual({
      uid: body.request.uid,
      allowed: false,
      status: expect.objectContaining({ code: 500, reason: 'InternalError' }),
      auditAnnotations: { 'internal-error': 'true' },
    });
  }
  expect(await internalErrors('encoder')).toBe(before + 2);
  expect((await server.client.postJson('/mutate', review(openaiBackend()))).status).toBe(200);
});

it('counts a refusal answered with HTTP 400 (no uid to answer in-band) as result="error" too', async () => {
  const errors = async (): Promise<number> =>
    (await server.metrics.admissionRequests.get()).values.find((v) => v.labels.endpoint === 'validate' && v.labels.result === 'error')?.value ?? 0;
  const before = await errors();
  const res = await server.client.send('POST', '/validate', '{"apiVersion": nope', { 'content-type': 'application/json' });
  expect(res.status).toBe(400);
  expect(await errors()).toBe(before + 1);
});
