/**
 * The admission memory budget (issue 12.2): bytes of bodies being read or judged at once are
 * bounded. Past it a request waits for room, then gets an in-band 429; small bodies keep a reserve.
 */
import { randomUUID } from 'node:crypto';
import type { ClientRequest } from 'node:http';
import { request } from 'node:https';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryBudget, SMALL_BODY_BYTES } from '../../src/admission/budget.js';
import { openaiBackend, review } from '../support/reviews.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

const MiB = 1024 * 1024;

describe('MemoryBudget', () => {
  it('grants what fits, queues the rest first come first served, and refuses at the wait limit', async () => {
    const budget = new MemoryBudget({ bytes: 4 * MiB, bodyLimit: MiB, maxWaitMs: 60_000 });
    const order: string[] = [];
    budget.reserve(MiB, Date.now() + 60_000, (ok) => order.push(`a:${ok}`));
    budget.reserve(2 * MiB, Date.now() + 60_000, (ok) => order.push(`b:${ok}`));
    expect(budget.inUse).toBe(3 * MiB);
    // Large bodies stop at 3 MiB (a quarter is kept for small ones): c waits.
    budget.reserve(MiB, Date.now() + 60_000, (ok) => order.push(`c:${ok}`));
    expect(order).toEqual(['a:true', 'b:true']);
    // A small body fits in the reserve, even with c waiting.
    expect(budget.tryReserve(SMALL_BODY_BYTES)).toBe(true);
    budget.release(SMALL_BODY_BYTES);
    budget.release(MiB);
    expect(order).toEqual(['a:true', 'b:true', 'c:true']);
    expect(budget.inUse).toBe(3 * MiB);
  });

  it('gives up at the request deadline or the wait limit, whichever is first', async () => {
    const budget = new MemoryBudget({ bytes: MiB, bodyLimit: MiB, maxWaitMs: 60_000 });
    expect(budget.tryReserve(MiB)).toBe(true);
    const answer = await new Promise<boolean>((resolve) => budget.reserve(MiB, Date.now() + 20, resolve));
    expect(answer).toBe(false);
    const late = await new Promise<boolean>((resolve) => budget.reserve(1, Date.now() - 1, resolve));
    expect(late).toBe(false);
    expect(budget.inUse).toBe(MiB);
  });

  it('refuses a budget smaller than the largest body', () => {
    expect(() => new MemoryBudget({ bytes: MiB - 1, bodyLimit: MiB })).toThrow(/at least the body limit/);
  });
});

/** Starts a request that declares `length` bytes and sends only `first` of them until told to. */
function held(server: TestServer, length: number, first: string): { req: ClientRequest; answer: Promise<any>; finish(rest: string): void } {
  let req!: ClientRequest;
  const answer = new Promise<any>((resolve, reject) => {
    req = request(
      new URL('/validate?timeout=30s', server.url),
      { method: 'POST', ca: server.ca, agent: false, headers: { 'content-type': 'application/json', 'content-length': String(length) } },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve(JSON.parse(text)));
      },
    );
    req.on('error', reject);
  });
  req.write(first);
  return { req, answer, finish: (rest) => req.end(rest) };
}

/** A valid review padded (with spaces, inside the JSON) to exactly `bytes`. */
function paddedReview(uid: string, bytes: number): string {
  const text = JSON.stringify(review(openaiBackend(), { uid }));
  return text.slice(0, -1) + ' '.repeat(bytes - text.length) + '}';
}

async function metric(server: TestServer, name: string): Promise<string> {
  return (await server.metrics.registry.metrics()).split('\n').filter((l) => l.startsWith(name)).join('\n');
}

describe('the budget in the server', () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('a large body that does not fit is refused in-band with 429 and its uid; small ones still pass', async () => {
    server = await startTestServer({ bodyLimit: MiB, memoryBudget: 2 * MiB, memoryBudgetWaitMs: 0 });
    const holding = held(server, MiB, paddedReview(randomUUID(), MiB).slice(0, 1000));
    holding.answer.catch(() => undefined);
    // Wait until the held request has its share.
    await expect.poll(async () => metric(server!, 'backend_webhook_admission_memory_bytes{state="in_use"}'), { timeout: 20_000 }).toContain(` ${MiB}`);

    const uid = randomUUID();
    const refused = await server.client.send('POST', '/validate?timeout=30s', paddedReview(uid, MiB - 10), { 'content-type': 'application/json' });
    expect(refused.status).toBe(200);
    expect(refused.json.response).toMatchObject({ uid, allowed: false, status: { code: 429, reason: 'TooManyRequests', message: expect.stringMatching(/busy.*retry/) } });

    const small = await server.client.postJson('/validate?timeout=30s', review(openaiBackend()));
    expect(small.json.response.allowed).toBe(true);

    holding.finish(paddedReview('x', MiB).slice(1000));
    holding.req.destroy();
    expect(await metric(server, 'backend_webhook_admission_overload_total')).toContain('backend_webhook_admission_overload_total{outcome="refused"} 1');
    expect(await metric(server, 'backend_webhook_bad_requests_total')).toContain('reason="OVERLOADED"');
  });

  it('a large body waits for room and is judged once it frees', async () => {
    server = await startTestServer({ bodyLimit: MiB, memoryBudget: MiB, memoryBudgetWaitMs: 60_000 });
    const firstUid = randomUUID();
    const firstBody = paddedReview(firstUid, MiB - 100);
    const holding = held(server, Buffer.byteLength(firstBody), firstBody.slice(0, 1000));
    await expect.poll(async () => metric(server!, 'backend_webhook_admission_memory_bytes{state="in_use"}'), { timeout: 20_000 }).toContain(` ${MiB - 100}`);

    const uid = randomUUID();
    const waiting = server.client.send('POST', '/validate?timeout=30s', paddedReview(uid, MiB - 200), { 'content-type': 'application/json' });
    await expect.poll(async () => metric(server!, 'backend_webhook_admission_memory_waiting'), { timeout: 20_000 }).toMatch(/waiting 1$/);
    holding.finish(firstBody.slice(1000));
    expect((await holding.answer).response).toMatchObject({ uid: firstUid, allowed: true });
    expect((await waiting).json.response).toMatchObject({ uid, allowed: true });
    expect(await metric(server, 'backend_webhook_admission_overload_total')).toContain('outcome="waited"} 1');
    await expect.poll(async () => metric(server!, 'backend_webhook_admission_memory_bytes{state="in_use"}'), { timeout: 20_000 }).toContain(' 0');
  });

  it('a connection that dies mid-body gives its share back', async () => {
    server = await startTestServer({ bodyLimit: MiB, memoryBudget: MiB });
    const holding = held(server, MiB - 100, 'x'.repeat(1000));
    holding.answer.catch(() => undefined);
    await expect.poll(async () => metric(server!, 'backend_webhook_admission_memory_bytes{state="in_use"}'), { timeout: 20_000 }).toContain(` ${MiB - 100}`);
    holding.req.destroy();
    await expect.poll(async () => metric(server!, 'backend_webhook_admission_memory_bytes{state="in_use"}'), { timeout: 20_000 }).toContain(' 0');
  });
});
