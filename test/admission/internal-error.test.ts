/** A processor that throws (a bug of ours) is answered in-band and fails closed, never as HTTP 500. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openaiBackend, review } from '../support/reviews.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

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
    ],
  });
});
afterAll(async () => {
  await server?.close();
});

it('denies with code 500 inside a well-formed AdmissionReview, without internals', async () => {
  const body = review(openaiBackend());
  const res = await server.client.postJson('/broken', body);
  expect(res.status).toBe(200);
  expect(res.json.response).toMatchObject({ uid: body.request.uid, allowed: false, status: { code: 500, reason: 'InternalError' } });
  expect(res.text).not.toMatch(/secret internal detail/);
  const text = await server.metrics.registry.getSingleMetricAsString('backend_webhook_internal_errors_total');
  expect(text).toMatch(/source="processor"\} 1/);
  // An answer that is not a verdict on the object counts as result="error" (the error-ratio alert).
  const requests = await server.metrics.registry.getSingleMetricAsString('backend_webhook_admission_requests_total');
  expect(requests).toMatch(/endpoint="broken",kind="Backend",operation="CREATE",result="error"\} 1/);
  expect(requests).not.toMatch(/endpoint="broken"[^}]*result="denied"/);
  // And the server goes on serving.
  expect((await server.client.postJson('/validate', review(openaiBackend()))).json.response.allowed).toBe(true);
});

it('counts a refusal answered with HTTP 400 (no uid to answer in-band) as result="error" too', async () => {
  const errors = async (): Promise<number> =>
    (await server.metrics.admissionRequests.get()).values.find((v) => v.labels.endpoint === 'validate' && v.labels.result === 'error')?.value ?? 0;
  const before = await errors();
  const res = await server.client.send('POST', '/validate', '{"apiVersion": nope', { 'content-type': 'application/json' });
  expect(res.status).toBe(400);
  expect(await errors()).toBe(before + 1);
});
