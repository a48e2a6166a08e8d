/**
 * Requests that arrive together are judged together (TurnBatcher): each one must still get its own
 * verdict, with its own uid, whatever else is in the batch.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Metrics } from '../../src/observability/metrics.js';
import { inject, injectServer } from '../reliability/helpers.js';
import { metricValue } from '../support/metrics-text.js';
import { decodePatch, openaiBackend, review } from '../support/reviews.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

function badPortBackend(): any {
  const b = openaiBackend();
  b.spec.destination.ports[0].number = 70000;
  return b;
}

it('answers every request of a concurrent burst with its own verdict', async () => {
  const bodies = Array.from({ length: 48 }, (_, i) => {
    const kind = i % 3; // 0: allowed, 1: denied, 2: mutated
    return { kind, body: review(kind === 1 ? badPortBackend() : openaiBackend()) };
  });
  const answers = await Promise.all(
    bodies.map(({ kind, body }) => server.client.postJson(kind === 2 ? '/mutate' : '/validate', body)),
  );
  answers.forEach((res, i) => {
    const { kind, body } = bodies[i]!;
    expect(res.status).toBe(200);
    expect(res.json.response.uid).toBe(body.request.uid);
    if (kind === 0) expect(res.json.response).toMatchObject({ allowed: true });
    if (kind === 1) {
      expect(res.json.response.allowed).toBe(false);
      expect(res.json.response.status.details.causes.map((c: { field: string }) => c.field)).toEqual(['spec.destination.ports[0].number']);
    }
    if (kind === 2) expect(decodePatch(res.json.response).map((op: { path: string }) => op.path)).toEqual(['/spec/destination/ports/1/tls']);
  });

  // Every request went through a batch exactly once.
  // (Over sockets how many share a turn depends on timing; that they do is shown in-process below.)
  const { count, sum } = await batches(server.metrics);
  expect(sum).toBe(48);
  expect(count).toBeGreaterThanOrEqual(1);
  expect(count).toBeLessThanOrEqual(48);
});

it('refuses a malformed body in a burst without disturbing the others', async () => {
  const good = Array.from({ length: 10 }, () => review(openaiBackend()));
  const [bad, ...answers] = await Promise.all([
    server.client.send('POST', '/validate', '{"apiVersion": "admission.k8s.io/v1", "kind": ', { 'content-type': 'application/json' }),
    ...good.map((body) => server.client.postJson('/validate', body)),
  ]);
  expect(bad!.status).toBe(400);
  answers.forEach((res, i) => {
    expect(res.json.response).toMatchObject({ uid: good[i]!.request.uid, allowed: true });
  });
});

/** The batch-size histogram: how many batches ran, and how many requests they held. */
async function batches(metrics: Metrics): Promise<{ count: number; sum: number }> {
  const text = await metrics.registry.getSingleMetricAsString('backend_webhook_admission_batch_size');
  return { count: metricValue(text, 'backend_webhook_admission_batch_size_count') ?? 0, sum: metricValue(text, 'backend_webhook_admission_batch_size_sum') ?? 0 };
}

it('judges requests whose bodies complete in the same event-loop turn as one batch', async () => {
  // In-process requests (app.inject: no sockets, the whole pipeline otherwise): all ten bodies are
  // complete before the turn ends, so they must be judged together, not as ten batches of one.
  const metrics = new Metrics();
  const { app } = await injectServer({ metrics });
  try {
    const bodies = Array.from({ length: 10 }, () => review(openaiBackend()));
    const answers = await Promise.all(bodies.map((body) => inject(app, '/validate', JSON.stringify(body))));
    answers.forEach((res, i) => expect(res.json.response).toMatchObject({ uid: bodies[i]!.request.uid, allowed: true }));
    expect(await batches(metrics)).toEqual({ count: 1, sum: 10 });
    // A lone request later is a batch of its own.
    await inject(app, '/mutate', JSON.stringify(review(openaiBackend())));
    expect(await batches(metrics)).toEqual({ count: 2, sum: 11 });
  } finally {
    await app.close();
  }
});
