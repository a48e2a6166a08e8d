/**
 * Hostile bodies over the real HTTPS socket: huge, deep, long, prototype-polluting, not UTF-8, and
 * slow. Each must be answered (or the connection closed) within its deadline, without crashing the
 * server, and a normal request must be answered right after.
 */
import { connect, type TLSSocket } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expectOneLinePerAdmission } from '../support/log-capture.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { backend, openaiBackend, review } from '../support/reviews.js';
import { expectWellFormedAnswer } from './helpers.js';

const MiB = 1024 * 1024;
/** The limit configured on the second server, to test refusal above it (default is 7 MiB). */
const SMALL_LIMIT = 3 * MiB;

let server: TestServer; // default 7 MiB limit
let limited: TestServer; // 3 MiB limit

beforeAll(async () => {
  // At the default level, logged as production logs: every admission leaves one line that parses.
  server = await startTestServer({ captureLogs: true });
  limited = await startTestServer({ bodyLimit: SMALL_LIMIT, captureLogs: true });
});
afterEach(async () => {
  for (const s of [server, limited]) {
    await expectOneLinePerAdmission(s.log!, s.answers);
    s.log!.clear();
    s.answers.length = 0;
  }
});
afterAll(async () => {
  await server?.close();
  await limited?.close();
});

/** A normal admission still works: the server survived whatever came before. */
async function expectStillServing(s: TestServer): Promise<void> {
  const body = review(openaiBackend());
  const res = await s.client.postJson('/validate', body);
  expect(res.status).toBe(200);
  expect(res.json.response.uid).toBe(body.request.uid);
  expect(res.json.response.allowed).toBe(true);
}

/** A Backend whose one extension carries `bytes` of config, as JSON text. */
function bigBackendReview(bytes: number): { body: any; text: string } {
  const chunk = 'x'.repeat(1000);
  const items = Array.from({ length: Math.ceil(bytes / 1000) }, () => chunk);
  const object = openaiBackend();
  object.spec.extensions = [{ name: 'big', type: 'example.com/Unknown', rawConfig: { items } }];
  const body = review(object);
  return { body, text: JSON.stringify(body) };
}

/** The denial an in-band refusal carries: HTTP 200, allowed false, code 400, uid echoed. */
function expectBadRequest(res: { status: number; json: any }, uid: string, code: string): void {
  expect(res.status).toBe(200);
  expect(res.json.response.uid).toBe(uid);
  expect(res.json.response.allowed).toBe(false);
  expect(res.json.response.status.code).toBe(400);
  expect(res.json.response.auditAnnotations['bad-request']).toBe(code);
}

describe('large bodies', () => {
  it('a 3.5 MiB review under the default 7 MiB limit is judged', async () => {
    const { body, text } = bigBackendReview(3.5 * MiB);
    expect(text.length).toBeGreaterThan(3.5 * MiB);
    const res = await server.client.postJson('/validate', text);
    expectWellFormedAnswer(res, { body, path: '/validate' });
    // Judged, not refused: the unknown extension type is the one problem.
    expect(res.json.response.allowed).toBe(false);
    expect(res.json.response.status.code).toBe(422);
    expect(res.json.response.status.details.causes.map((c: any) => c.field)).toEqual(['spec.extensions[0].type']);
    expect(res.text.length, 'the denial does not echo the body').toBeLessThan(16 * 1024);
    await expectStillServing(server);
  });

  it('a 3.5 MiB review over a 3 MiB limit is refused in-band with its uid', async () => {
    const { body, text } = bigBackendReview(3.5 * MiB);
    const res = await limited.client.postJson('/validate', text);
    expectBadRequest(res, body.request.uid, 'BODY_TOO_LARGE');
    expect(res.json.response.status.message).toContain(String(SMALL_LIMIT));
    await expectStillServing(limited);
  });

  it('a body over the limit whose uid cannot be read gets an HTTP 400 JSON error (admission contract)', async () => {
    const text = `{"padding":"${'y'.repeat(SMALL_LIMIT)}"}`;
    const res = await limited.client.postJson('/mutate', text);
    expect(res.status).toBe(400);
    expect(res.json.code).toBe('BODY_TOO_LARGE');
    expect(typeof res.json.message).toBe('string');
    await expectStillServing(limited);
  });

  it('a 5 MB hostname under the 7 MiB limit is denied as too long, without echoing it', async () => {
    const object = backend({ destination: { type: 'Fqdn', fqdn: { hostname: `${'a'.repeat(5_000_000)}.com` }, ports: [{ number: 443, protocol: 'HTTP' }] } });
    const body = review(object);
    const res = await server.client.postJson('/validate', body);
    expectWellFormedAnswer(res, { body, path: '/validate' });
    expect(res.json.response.allowed).toBe(false);
    const fields = res.json.response.status.details.causes.map((c: any) => c.field);
    expect(fields).toContain('spec.destination.fqdn.hostname');
    expect(res.text.length, 'the denial does not echo the 5 MB value').toBeLessThan(16 * 1024);
    const mutated = await server.client.postJson('/mutate', body);
    expectWellFormedAnswer(mutated, { body, path: '/mutate' });
    expect(mutated.text.length, 'the patch does not copy the 5 MB value either').toBeLessThan(16 * 1024);
    await expectStillServing(server);
  });
});

describe('deep nesting', () => {
  const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
  const deepObject = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;

  it.each([
    ['10,000-deep arrays as the object', (uid: string) => `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"${uid}","object":${deep(10_000)}}}`],
    ['10,000-deep objects in rawConfig', (uid: string) => {
      const text = JSON.stringify(review(openaiBackend(), { uid }));
      return text.replace('"spec":{', `"spec":{"extensions":[{"name":"x","type":"example.com/Unknown","rawConfig":${deepObject(10_000)}}],`);
    }],
  ])('%s is refused in-band as too deep', async (_name, make) => {
    const uid = `deep-${Math.random().toString(36).slice(2)}`;
    for (const path of ['/validate', '/mutate']) {
      const res = await server.client.postJson(path, make(uid));
      expectBadRequest(res, uid, 'TOO_DEEP');
    }
    await expectStillServing(server);
  });

  it('100,000-deep nesting with no uid gets a JSON 4xx', async () => {
    const res = await server.client.postJson('/validate', deep(100_000));
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(typeof res.json.code).toBe('string');
    await expectStillServing(server);
  });
});

describe('prototype keys', () => {
  const protoBefore = Object.getOwnPropertyNames(Object.prototype).sort();

  // JSON.parse makes these plain own properties: only the judged parts (spec, top-level fields) refuse them.
  it.each([
    ['__proto__ at the top of the body', (uid: string) => `{"__proto__":{"polluted":true},"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":${JSON.stringify(review(openaiBackend(), { uid }).request)}}`, undefined],
    ['__proto__ inside spec', (uid: string) => JSON.stringify(review(openaiBackend(), { uid })).replace('"spec":{', '"spec":{"__proto__":{"polluted":true},'), 'spec.__proto__'],
    ['__proto__ inside rawConfig', (uid: string) => JSON.stringify(review(openaiBackend(), { uid })).replace('"spec":{', '"spec":{"extensions":[{"name":"x","type":"example.com/ToolFilter","rawConfig":{"__proto__":{"polluted":true},"categories":["search"]}}],'), 'spec.extensions[0].rawConfig/__proto__'],
    ['constructor.prototype inside metadata', (uid: string) => JSON.stringify(review(openaiBackend(), { uid })).replace('"metadata":{', '"metadata":{"constructor":{"prototype":{"polluted":true}},'), undefined],
  ])('%s: judged where it is judged, and Object.prototype stays clean', async (_name, make, refusedAt) => {
    const uid = `proto-${Math.random().toString(36).slice(2)}`;
    const validated = await server.client.postJson('/validate', make(uid));
    expect(validated.status).toBe(200);
    expect(validated.json.response.uid).toBe(uid);
    if (refusedAt === undefined) {
      expect(validated.json.response.allowed).toBe(true);
    } else {
      expect(validated.json.response).toMatchObject({ allowed: false, status: { code: 422 } });
      expect(validated.json.response.status.details.causes).toContainEqual(expect.objectContaining({ field: refusedAt, reason: 'FieldValueForbidden' }));
    }
    const mutated = await server.client.postJson('/mutate', make(uid));
    expect(mutated.json.response).toMatchObject({ uid, allowed: true });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(protoBefore);
    await expectStillServing(server);
  });

  it('a plain "constructor" field name is judged like any unknown field, not refused as an attack', async () => {
    const body = review(backend({ destination: { type: 'Fqdn', fqdn: { hostname: 'api.openai.com' }, ports: [{ number: 443, protocol: 'HTTP' }] }, constructor: 'x' }));
    const res = await server.client.postJson('/validate', body);
    expect(res.json.response.allowed).toBe(false);
    expect(res.json.response.status.code).toBe(422);
    expect(res.json.response.status.details.causes.map((c: any) => c.field)).toContain('spec.constructor');
  });
});

describe('invalid UTF-8', () => {
  it.each([
    ['a lone continuation byte', Buffer.from([0x80])],
    ['an overlong encoding of "/"', Buffer.from([0xc0, 0xaf])],
    ['a UTF-16 surrogate encoded in UTF-8', Buffer.from([0xed, 0xa0, 0x80])],
    ['0xff', Buffer.from([0xff, 0xfe])],
  ])('%s in a hostname is refused in-band', async (_name, bad) => {
    const uid = `utf8-${Math.random().toString(36).slice(2)}`;
    const text = JSON.stringify(review(openaiBackend(), { uid }));
    const marker = '"hostname":"api.openai.com"';
    const at = text.indexOf(marker);
    const body = Buffer.concat([Buffer.from(text.slice(0, at)), Buffer.from('"hostname":"api.'), bad, Buffer.from('openai.com"'), Buffer.from(text.slice(at + marker.length))]);
    const res = await server.client.send('POST', '/validate', body, { 'content-type': 'application/json' });
    expectBadRequest(res, uid, 'BAD_UTF8');
    await expectStillServing(server);
  });
});

describe('slow senders', () => {
  interface SlowResult {
    /** What the server wrote before closing (or before we gave up). */
    response: string;
    closedByServer: boolean;
    bytesSent: number;
    /** Milliseconds from sending the request headers to the first byte of the answer (undefined: none). */
    answeredAfterMs: number | undefined;
  }

  /** The deadline's refusal: the body never completed, so no uid is trusted: HTTP 408 with the JSON error. */
  function expectBodyTimeout(result: SlowResult, deadlineMs: number, marginMs: number): void {
    expect(result.answeredAfterMs, `an answer, not a silent close: ${JSON.stringify(result.response)}`).toBeDefined();
    // Not before the deadline (timers may fire a little early against Date.now), and not long after.
    expect(result.answeredAfterMs!).toBeGreaterThanOrEqual(deadlineMs - 100);
    expect(result.answeredAfterMs!).toBeLessThanOrEqual(deadlineMs + marginMs);
    expect(result.response).toMatch(/^HTTP\/1\.1 408 /);
    expect(result.response).toMatch(/\r\nconnection: close\r\n/i);
    const json = JSON.parse(result.response.slice(result.response.indexOf('\r\n\r\n') + 4));
    expect(json).toEqual({ code: 'BODY_TIMEOUT', statusCode: 408, message: `request body did not arrive within ${deadlineMs} ms` });
  }

  /**
   * Opens TLS, sends headers announcing `declared` body bytes, then drips one byte every `dripMs`
   * until the server answers or closes, or `giveUpMs` passes (the bound asserted by the caller).
   */
  function slowloris(s: TestServer, path: string, opts: { declared: number; dripMs: number; giveUpMs: number; prefix: string }): Promise<SlowResult> {
    return new Promise((resolve, reject) => {
      const socket: TLSSocket = connect({ host: '127.0.0.1', port: s.port, ca: s.ca, servername: 'localhost' });
      let response = '';
      let bytesSent = 0;
      let done = false;
      let sentAt = 0;
      let answeredAfterMs: number | undefined;
      const finish = (closedByServer: boolean): void => {
        if (done) return;
        done = true;
        clearInterval(drip);
        clearTimeout(giveUp);
        socket.destroy();
        resolve({ response, closedByServer, bytesSent, answeredAfterMs });
      };
      let drip: NodeJS.Timeout | undefined;
      const giveUp = setTimeout(() => finish(false), opts.giveUpMs);
      socket.on('error', (err) => (done ? undefined : response ? finish(true) : reject(err)));
      socket.on('data', (d: Buffer) => {
        answeredAfterMs ??= performance.now() - sentAt;
        response += d.toString('utf8');
      });
      socket.on('end', () => finish(true));
      socket.on('close', () => finish(true));
      socket.on('secureConnect', () => {
        sentAt = performance.now();
        socket.write(`POST ${path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${opts.declared}\r\n\r\n`);
        socket.write(opts.prefix);
        bytesSent = opts.prefix.length;
        drip = setInterval(() => {
          if (bytesSent >= opts.declared - 1 || socket.destroyed) return;
          socket.write(' ');
          bytesSent++;
        }, opts.dripMs);
      });
    });
  }

  it('a body dripped slowly past ?timeout=2s is refused with HTTP 408 at the deadline, not held', async () => {
    const uid = 'slow-uid';
    // Patience 2 s + 5 s: a deadline ignored (or fixed at the 10 s default, or the 30 s maximum) fails.
    const result = await slowloris(server, '/validate?timeout=2s', { declared: 100_000, dripMs: 100, giveUpMs: 7_000, prefix: `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"${uid}"` });
    expectBodyTimeout(result, 2_000, 5_000);
    expect(result.closedByServer, 'the connection is closed after the refusal').toBe(true);
    await expectStillServing(server);
  }, 30_000);

  it('many slow senders at once do not stop normal requests from being answered', async () => {
    const prefix = '{"apiVersion":"admission.k8s.io/v1"';
    // 50 TLS handshakes on a loaded 2-core machine: a wider margin, still far below the 10 s default.
    const slow = Array.from({ length: 50 }, () => slowloris(server, '/mutate?timeout=3s', { declared: 1_000_000, dripMs: 250, giveUpMs: 12_000, prefix }));
    // While they drip, normal admissions are answered.
    for (let i = 0; i < 5; i++) await expectStillServing(server);
    const results = await Promise.all(slow);
    for (const r of results) expectBodyTimeout(r, 3_000, 6_000);
    await expectStillServing(server);
  }, 90_000);
});
