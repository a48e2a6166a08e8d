/** A processor that throws (a bug of ours) is answered in-band and fails closed, never as HTTP 500. */
import { afterAll, beforeAll, expect, it } from 'vitest';
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
  expect(metricValue(text, 'backend_webhook_internal_errors_total', { source: 'processor' })).toBe(1);
  // And the server goes on serving.
  expect((await server.client.postJson('/validate', review(openaiBackend()))).json.response.allowed).toBe(true);
});
