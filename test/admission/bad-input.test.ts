/** Hostile and malformed requests: each gets a clean answer, never a crash, hang or stack. */
import { connect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { backend, openaiBackend, review } from '../support/reviews.js';
import { metricValue } from '../support/metrics-text.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ bodyLimit: 64 * 1024 });
});
afterAll(async () => {
  await server?.close();
});

function expectHttp400(res: { status: number; json: any; text: string }, code: string): void {
  expect(res.status).toBe(400);
  expect(res.json).toMatchObject({ code, statusCode: 400 });
  expect(typeof res.json.message).toBe('string');
  expect(res.text).not.toMatch(/\bat .+\.(js|ts):\d+/); // no stack
}

function expectInBandRefusal(res: { status: number; json: any }, uid: string, messagePart: RegExp): void {
  expect(res.status).toBe(200);
  expect(res.json.kind).toBe('AdmissionReview');
  expect(res.json.response.uid).toBe(uid);
  expect(res.json.response.allowed).toBe(false);
  expect(res.json.response.status.code).toBe(400);
  expect(res.json.response.status.message).toMatch(messagePart);
  expect(res.json.response.patch).toBeUndefined();
}

describe('bodies that are not an AdmissionReview', () => {
  it('refuses non-JSON with HTTP 400 and a JSON error', async () => {
    expectHttp400(await server.client.send('POST', '/validate', '{"apiVersion": nope', { 'content-type': 'application/json' }), 'BAD_JSON');
  });

  it('refuses an empty body with HTTP 400', async () => {
    expectHttp400(await server.client.send('POST', '/mutate', '', { 'content-type': 'application/json' }), 'BAD_JSON');
  });

  it('refuses a JSON value that is not an object', async () => {
    expectHttp400(await server.client.postJson('/validate', '[1,2,3]'), 'NOT_ADMISSION_REVIEW');
  });

  it('refuses a review without request', async () => {
    expectHttp400(await server.client.postJson('/validate', { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }), 'MISSING_REQUEST');
  });

  it('refuses a review without uid', async () => {
    const body = review(openaiBackend());
    delete body.request.uid;
    expectHttp400(await server.client.postJson('/validate', body), 'MISSING_UID');
  });

  it('refuses an unknown AdmissionReview version with HTTP 400', async () => {
    const body = review(openaiBackend());
    body.apiVersion = 'admission.k8s.io/v2';
    const res = await server.client.postJson('/validate', body);
    // A uid is readable, so the refusal is in-band, in the version we speak.
    expectInBandRefusal(res, body.request.uid, /expected kind AdmissionReview/);
    expect(res.json.apiVersion).toBe('admission.k8s.io/v1');
  });
});

describe('refusals that carry the uid', () => {
  it('wrong content type: in-band refusal when the uid is readable', async () => {
    const body = review(openaiBackend());
    const res = await server.client.send('POST', '/validate', JSON.stringify(body), { 'content-type': 'text/plain' });
    expectInBandRefusal(res, body.request.uid, /Content-Type must be application\/json/);
  });

  it('wrong content type and unreadable body: HTTP 400', async () => {
    expectHttp400(await server.client.send('POST', '/validate', 'hello', { 'content-type': 'text/plain' }), 'BAD_JSON');
  });

  it('a kind the endpoint does not serve is refused, never allowed', async () => {
    for (const path of ['/validate', '/mutate']) {
      const body = review({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } }, { kind: 'Pod' });
      body.request.kind = { group: '', version: 'v1', kind: 'Pod' };
      const res = await server.client.postJson(path, body);
      expectInBandRefusal(res, body.request.uid, /\/(validate|mutate) serves ainetworking\.prototype\.x-k8s\.io\/v0alpha0 Backend and XBackendDestination; .*, not core\/v1, Kind=Pod/);
    }
  });

  it('a Backend of another version of the group is refused', async () => {
    const body = review(openaiBackend());
    body.request.kind.version = 'v1';
    expectInBandRefusal(await server.client.postJson('/validate', body), body.request.uid, /not ainetworking\.prototype\.x-k8s\.io\/v1, Kind=Backend/);
  });

  it('CREATE without object is refused', async () => {
    const body = review(null);
    expectInBandRefusal(await server.client.postJson('/validate', body), body.request.uid, /request\.object is required for CREATE/);
  });

  it('a body over the limit is refused in-band when the uid leads the request, as the API server writes it', async () => {
    const body = review(backend({ destination: { type: 'Fqdn', fqdn: { hostname: 'a.example.com' }, ports: [{ number: 443, protocol: 'HTTP' }] }, pad: 'x'.repeat(100 * 1024) }));
    // Go marshals AdmissionRequest with uid first; JSON.stringify keeps our key order, uid first too.
    const res = await server.client.postJson('/validate', body);
    expectInBandRefusal(res, body.request.uid, /exceeds the limit of 65536 bytes/);
  });

  it.each([
    ['as the API server (Go) writes it: kind, apiVersion, request', (v: string, uid: string, pad: string) => `{"kind":"AdmissionReview","apiVersion":"${v}","request":{"uid":"${uid}","pad":"${pad}"}}`],
    ['apiVersion first', (v: string, uid: string, pad: string) => `{"apiVersion":"${v}","kind":"AdmissionReview","request":{"uid":"${uid}","pad":"${pad}"}}`],
  ])('a body over the limit is refused in the review version asked (%s)', async (_shape, text) => {
    const pad = 'x'.repeat(100 * 1024);
    for (const version of ['admission.k8s.io/v1beta1', 'admission.k8s.io/v1']) {
      const uid = `oversized-${version.slice(-7).replace('/', '')}`;
      const res = await server.client.postJson('/validate', text(version, uid, pad));
      expectInBandRefusal(res, uid, /exceeds the limit of 65536 bytes/);
      expect(res.json.apiVersion).toBe(version);
    }
  });

  it('an oversized body whose apiVersion is not at the top level, before request, is answered as v1', async () => {
    const uid = 'oversized-nested-version';
    const text = `{"kind":"AdmissionReview","request":{"uid":"${uid}","apiVersion":"admission.k8s.io/v1beta1","pad":"${'x'.repeat(100 * 1024)}"}}`;
    const res = await server.client.postJson('/validate', text);
    expectInBandRefusal(res, uid, /exceeds the limit/);
    expect(res.json.apiVersion).toBe('admission.k8s.io/v1');
  });

  it('a body over the limit without a leading uid gets HTTP 400', async () => {
    const res = await server.client.postJson('/validate', { pad: 'x'.repeat(100 * 1024) });
    expectHttp400(res, 'BODY_TOO_LARGE');
  });

  it('a depth bomb is refused in-band', async () => {
    const body = review(openaiBackend());
    body.request.object.spec.extensions = [{ name: 'x', type: 'example.com/X', rawConfig: 'BOMB' }];
    // Built as text: JSON.stringify itself would overflow the stack on 10,000 levels.
    const text = JSON.stringify(body).replace('"BOMB"', `${'{"a":'.repeat(10_000)}{}${'}'.repeat(10_000)}`);
    const res = await server.client.postJson('/validate', text);
    expectInBandRefusal(res, body.request.uid, /nesting deeper than 100 levels/);
  });

  it('a __proto__ key in spec is judged (Forbidden at its path) and pollutes nothing', async () => {
    const body = review(openaiBackend());
    const text = JSON.stringify(body).replace('"spec":{', '"spec":{"__proto__":{"polluted":true},');
    const res = await server.client.postJson('/validate', text);
    expect(res.json.response).toMatchObject({ uid: body.request.uid, allowed: false, status: { code: 422 } });
    expect(res.json.response.status.details.causes).toContainEqual(expect.objectContaining({ field: 'spec.__proto__', reason: 'FieldValueForbidden' }));
    expect(({} as any).polluted).toBeUndefined();
  });

  it('a constructor.prototype key does not stop the mutating webhook (it never denies a Backend)', async () => {
    const body = review(openaiBackend());
    const text = JSON.stringify(body).replace('"spec":{', '"spec":{"constructor":{"prototype":{"polluted":true}},');
    const res = await server.client.postJson('/mutate', text);
    expect(res.json.response).toMatchObject({ uid: body.request.uid, allowed: true, patchType: 'JSONPatch' });
    expect(({} as any).polluted).toBeUndefined();
  });

  it('invalid UTF-8 is refused in-band', async () => {
    const body = review(openaiBackend());
    const text = Buffer.from(JSON.stringify(body).replace('api.openai.com"', 'api.openai.com\u0001"'));
    const bad = Buffer.from(text.toString('latin1').replace('\u0001', '\u00ff'), 'latin1'); // lone 0xff byte
    expectInBandRefusal(await server.client.send('POST', '/validate', bad, { 'content-type': 'application/json' }), body.request.uid, /not valid UTF-8/);
  });
});

describe('routing and transport', () => {
  it('routes on the path and ignores the timeout query', async () => {
    const body = review(openaiBackend());
    const res = await server.client.postJson('/validate?timeout=10s', body);
    expect(res.status).toBe(200);
    expect(res.json.response.uid).toBe(body.request.uid);
  });

  it('answers unknown paths with a JSON 404', async () => {
    const res = await server.client.postJson('/nope', review(openaiBackend()));
    expect(res.status).toBe(404);
    expect(res.json.code).toBe('NOT_FOUND');
  });

  it('speaks HTTP/1.1 only: ALPN never selects h2', async () => {
    const protocol = await new Promise<string | false>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port: server.port, ca: server.ca, servername: 'localhost', ALPNProtocols: ['h2', 'http/1.1'] }, () => {
        resolve(socket.alpnProtocol ?? false);
        socket.end();
      });
      socket.on('error', reject);
    });
    expect(protocol).not.toBe('h2');
  });

  it('never lets request values grow the metric label set', async () => {
    for (const kind of ['Pod', 'Kind-1', 'Kind-2']) {
      const body = review(openaiBackend());
      body.request.kind = { group: 'example.com', version: 'v1', kind };
      body.request.operation = `OP-${kind}`;
      await server.client.postJson('/validate', body);
    }
    const text = await server.metrics.registry.getSingleMetricAsString('backend_webhook_admission_requests_total');
    expect(metricValue(text, 'backend_webhook_admission_requests_total', { kind: 'other', operation: 'other', result: 'error' })).toBe(3);
    expect(text).not.toMatch(/Kind-1|OP-Pod/);
  });

  it('keeps serving after all of the above', async () => {
    const body = review(openaiBackend());
    const res = await server.client.postJson('/validate', body);
    expect(res.json.response.allowed).toBe(true);
  });
});
