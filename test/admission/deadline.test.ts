/**
 * `?timeout=` as the API server writes it: Go's time.Duration.String() of the time left for the
 * call (k8s.io/client-go rest.Request.Timeout), e.g. "10s", "1m30s", "1.5s", "500ms", "999.999µs".
 */
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { App } from '../../src/admission/app.js';
import { injectServer } from '../reliability/helpers.js';
import { backend, review } from '../support/reviews.js';
import { DEFAULT_TIMEOUT_MS, MAX_TIMEOUT_MS, parseGoDuration, timeoutFromQuery } from '../../src/admission/deadline.js';

describe('parseGoDuration', () => {
  it.each([
    ['10s', 10_000],
    ['30s', 30_000],
    ['1s', 1_000],
    ['1.5s', 1_500],
    ['2.25s', 2_250],
    ['500ms', 500],
    ['1m0s', 60_000],
    ['1m30s', 90_000],
    ['1h0m0s', 3_600_000],
    ['1h2m3.5s', 3_723_500],
    ['999.999µs', 0.999999],
    ['1.5us', 0.0015],
    ['100ns', 0.0001],
    ['2m', 120_000],
  ])('%s is %d ms', (text, ms) => {
    expect(parseGoDuration(text)).toBeCloseTo(ms, 9);
  });

  it.each([
    ['empty', ''],
    ['zero', '0s'],
    ['negative', '-1s'],
    ['no unit', '10'],
    ['unknown unit', '10d'],
    ['trailing garbage', '10sx'],
    ['leading garbage', 'x10s'],
    ['space inside', '1m 30s'],
    ['a bare dot', '.s'],
    ['upper-case unit', '10S'],
    ['longer than 64 characters', `${'1'.repeat(64)}s`],
  ])('%s is refused', (_name, text) => {
    expect(parseGoDuration(text)).toBeUndefined();
  });

  it.each([[undefined], [10], [['10s']], [null]])('a non-string (%j) is refused', (value) => {
    expect(parseGoDuration(value)).toBeUndefined();
  });
});

describe('timeoutFromQuery', () => {
  it('uses the parsed duration', () => {
    expect(timeoutFromQuery('2s')).toBe(2_000);
    expect(timeoutFromQuery('1m0s')).toBe(MAX_TIMEOUT_MS);
    expect(timeoutFromQuery('29.5s')).toBe(29_500);
  });

  it('caps at the API server maximum of 30 s', () => {
    expect(MAX_TIMEOUT_MS).toBe(30_000);
    expect(timeoutFromQuery('45s')).toBe(30_000);
    expect(timeoutFromQuery('1h0m0s')).toBe(30_000);
  });

  it('falls back to the API server default of 10 s when absent or malformed', () => {
    expect(DEFAULT_TIMEOUT_MS).toBe(10_000);
    expect(timeoutFromQuery(undefined)).toBe(10_000);
    expect(timeoutFromQuery('soon')).toBe(10_000);
    expect(timeoutFromQuery('0s')).toBe(10_000);
    // A repeated query parameter arrives as an array: not a duration.
    expect(timeoutFromQuery(['2s', '3s'])).toBe(10_000);
  });
});

describe('a request judged after its deadline', () => {
  let app: App;
  beforeAll(async () => {
    ({ app } = await injectServer());
  });
  afterAll(async () => {
    await app?.close();
    vi.restoreAllMocks();
  });

  /**
   * Sends `body` in two chunks; between them the clock jumps `jumpMs` ahead (Date.now only: the
   * body timer is a real timer and does not fire), as if the body had taken that long to arrive.
   */
  async function sendWithClockJump(url: string, body: string, jumpMs: number) {
    let offset = 0;
    const realNow = Date.now.bind(Date);
    vi.spyOn(Date, 'now').mockImplementation(() => realNow() + offset);
    const half = Math.floor(body.length / 2);
    let reads = 0;
    const payload = new Readable({
      read() {
        reads++;
        if (reads === 1) this.push(body.slice(0, half));
        else if (reads === 2) {
          offset = jumpMs;
          this.push(body.slice(half));
          this.push(null);
        }
      },
    });
    try {
      return await app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }, payload });
    } finally {
      vi.mocked(Date.now).mockRestore();
    }
  }

  it.each(['admission.k8s.io/v1', 'admission.k8s.io/v1beta1'] as const)('is refused in-band (%s) with code 400 and bad-request DEADLINE_EXCEEDED, not judged', async (apiVersion) => {
    // The object is invalid: had it been judged, the answer would be a 422 denial.
    const body = review(backend({ destination: { type: 'Fqdn', fqdn: { hostname: 'api.openai.com' }, ports: [{ number: 0, protocol: 'HTTP' }] } }), { apiVersion });
    const res = await sendWithClockJump('/validate?timeout=2s', JSON.stringify(body), 3_000);
    expect(res.statusCode).toBe(200);
    const json = res.json();
    expect(json.apiVersion).toBe(apiVersion);
    expect(json.response.uid).toBe(body.request.uid);
    expect(json.response.allowed).toBe(false);
    expect(json.response.status).toMatchObject({ code: 400, reason: 'BadRequest', message: 'the request deadline passed before it could be judged' });
    expect(json.response.auditAnnotations).toEqual({ 'bad-request': 'DEADLINE_EXCEEDED' });
  });

  it('within its deadline the same request is judged', async () => {
    const body = review(backend({ destination: { type: 'Fqdn', fqdn: { hostname: 'api.openai.com' }, ports: [{ number: 0, protocol: 'HTTP' }] } }));
    // The same clock jump, but the deadline (30 s maximum) has not passed.
    const res = await sendWithClockJump('/validate?timeout=30s', JSON.stringify(body), 3_000);
    expect(res.json().response.status.code).toBe(422);
  });
});
