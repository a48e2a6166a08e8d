/**
 * README promises checked in-process, over the real HTTPS server: the warnings and bad-request
 * counters, the ratcheted-errors and internal-error audit annotations, and the 120 s keep-alive.
 */
import { connect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_VALIDATION_OPTIONS } from '../../src/backend/options.js';
import { metricValue } from '../support/metrics-text.js';
import { backend, openaiBackend, review } from '../support/reviews.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({
    validation: { ...DEFAULT_VALIDATION_OPTIONS, unknownExtensionPolicy: 'warn' },
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

const scrape = () => server.metrics.registry.metrics();
const withUnknownExtensions = (n: number) => {
  const object = openaiBackend();
  object.spec.extensions = Array.from({ length: n }, (_, i) => ({ name: `x${i}`, type: `example.com/Unknown${i}` }));
  return object;
};
const ipBackend = (address: string, finalizers?: string[]) => {
  const object = backend({ destination: { type: 'Ip', ip: { address }, ports: [{ number: 443, protocol: 'HTTP', tls: { mode: 'Simple', sni: 'api.example.com' } }] } });
  if (finalizers) object.metadata.finalizers = finalizers;
  return object;
};

describe('backend_webhook_admission_warnings_total', () => {
  it('counts every warning sent, by endpoint and kind', async () => {
    const warnings = async () => metricValue(await scrape(), 'backend_webhook_admission_warnings_total', { endpoint: 'validate', kind: 'Backend' }) ?? 0;
    const before = await warnings();
    const two = await server.client.postJson('/validate', review(withUnknownExtensions(2)));
    expect(two.json.response.allowed).toBe(true);
    expect(two.json.response.warnings).toHaveLength(2);
    expect(await warnings()).toBe(before + 2);
    await server.client.postJson('/validate', review(withUnknownExtensions(1)));
    expect(await warnings()).toBe(before + 3);
    // No warnings: no count.
    await server.client.postJson('/validate', review(openaiBackend()));
    expect(await warnings()).toBe(before + 3);
  });
});

describe('backend_webhook_bad_requests_total', () => {
  it('counts refusals by reason, with and without a uid', async () => {
    const bad = async (reason: string) => metricValue(await scrape(), 'backend_webhook_bad_requests_total', { reason }) ?? 0;
    const [json0, deep0] = [await bad('BAD_JSON'), await bad('TOO_DEEP')];
    const res = await server.client.postJson('/validate', '{"apiVersion": "admission.k8s.io/v1", "kind": ');
    expect(res.status).toBe(400);
    expect(await bad('BAD_JSON')).toBe(json0 + 1);
    const deep = JSON.stringify(review(openaiBackend())).replace('"spec":{', `"spec":{"x":${'['.repeat(200)}${']'.repeat(200)},`);
    for (let i = 0; i < 2; i++) expect((await server.client.postJson('/mutate', deep)).json.response.auditAnnotations['bad-request']).toBe('TOO_DEEP');
    expect(await bad('TOO_DEEP')).toBe(deep0 + 2);
    expect(await bad('BAD_JSON')).toBe(json0 + 1);
  });
});

describe('audit annotations', () => {
  it('ratcheted-errors: an UPDATE that leaves a problem unchanged is allowed, the count annotated', async () => {
    // 127.0.0.1 is refused as a destination; the UPDATE only drops a finalizer.
    const res = await server.client.postJson('/validate', review(ipBackend('127.0.0.1'), { operation: 'UPDATE', oldObject: ipBackend('127.0.0.1', ['example.com/cleanup']) }));
    expect(res.json.response.allowed).toBe(true);
    expect(res.json.response.auditAnnotations).toMatchObject({ 'validation-result': 'allowed', 'validation-errors': '0', 'ratcheted-errors': '1' });
    expect(res.json.response.warnings).toHaveLength(1);
    // A CREATE of the same object is denied, and has nothing ratcheted.
    const create = await server.client.postJson('/validate', review(ipBackend('127.0.0.1')));
    expect(create.json.response.allowed).toBe(false);
    expect(create.json.response.auditAnnotations['ratcheted-errors']).toBeUndefined();
  });

  it('internal-error: a processor that throws is denied with code 500 and annotated', async () => {
    const res = await server.client.postJson('/broken', review(openaiBackend()));
    expect(res.status).toBe(200);
    expect(res.json.response.status.code).toBe(500);
    expect(res.json.response.auditAnnotations).toEqual({ 'internal-error': 'true' });
  });
});

describe('keep-alive', () => {
  it('keeps idle connections 120 s, longer than the API server\'s 90 s', () => {
    expect(server.app.server.keepAliveTimeout).toBe(120_000);
  });

  it('an idle connection outlives Node\'s 5 s default and serves a second request', async () => {
    const socket = connect({ host: '127.0.0.1', port: server.port, ca: server.ca, servername: 'localhost' });
    let closed = false;
    socket.on('close', () => (closed = true));
    socket.on('error', () => (closed = true));
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', () => resolve());
      socket.once('error', reject);
    });
    const ask = (): Promise<string> =>
      new Promise((resolve) => {
        const body = JSON.stringify(review(openaiBackend()));
        let text = '';
        const onData = (d: Buffer) => {
          text += d.toString('utf8');
          const head = text.indexOf('\r\n\r\n');
          const length = /content-length: (\d+)/i.exec(text)?.[1];
          if (head >= 0 && length !== undefined && Buffer.byteLength(text.slice(head + 4)) >= Number(length)) {
            socket.off('data', onData);
            resolve(text);
          }
        };
        socket.on('data', onData);
        socket.write(`POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      });
    const first = await ask();
    expect(first).toMatch(/^HTTP\/1\.1 200 /);
    expect(first).toMatch(/\r\nkeep-alive: timeout=120\r\n/i);
    await new Promise((r) => setTimeout(r, 6_000));
    expect(closed, 'the server kept the idle connection past 5 s').toBe(false);
    expect(await ask()).toMatch(/^HTTP\/1\.1 200 /);
    socket.destroy();
  }, 30_000);
});
