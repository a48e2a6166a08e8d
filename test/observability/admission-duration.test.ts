/**
 * backend_webhook_admission_duration_seconds and the decision line's durationMs measure a request
 * from its head to the last byte of the answer: every judged request is observed exactly once, and
 * a request whose body arrives slowly, on purpose, takes at least as long as its pause.
 */
import { request } from 'node:https';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openaiBackend, review } from '../support/reviews.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

const PAUSE_MS = 500;
/**
 * The server's clock starts when it has read the head and stops after the answer; the client's pause
 * starts once the head has left. A busy server reading the head a little late can shave a few ms.
 */
const SLACK_MS = 50;

let server: TestServer;
const lines: any[] = [];

beforeAll(async () => {
  const capture = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      cb();
    },
  });
  server = await startTestServer({ logLevel: 'info', logDestination: capture });
});
afterAll(async () => {
  await server?.close();
});

async function histogram(endpoint: string): Promise<{ count: number; sum: number }> {
  const text = await server.metrics.registry.getSingleMetricAsString('backend_webhook_admission_duration_seconds');
  const value = (suffix: string): number => {
    const m = new RegExp(`^backend_webhook_admission_duration_seconds_${suffix}\\{endpoint="${endpoint}"\\} (\\S+)$`, 'm').exec(text);
    return m ? Number(m[1]) : 0;
  };
  return { count: value('count'), sum: value('sum') };
}

/** Sends the head and the first half of the body, waits `pauseMs` once they have left, then the rest. */
function postSlowly(path: string, body: string, pauseMs: number): Promise<any> {
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, server.url),
      { method: 'POST', agent: server.client.agent, headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve(JSON.parse(text)));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    const half = Math.floor(body.length / 2);
    req.write(body.slice(0, half), () => setTimeout(() => req.end(body.slice(half)), pauseMs));
  });
}

async function decisionLine(uid: string): Promise<any> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const line = lines.find((l) => l.msg === 'admission decision' && l.uid === uid);
    if (line) return line;
    if (Date.now() > deadline) throw new Error(`no decision line for ${uid}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

it('observes every judged request once, and a slow request for at least its pause, in the metric and in durationMs', async () => {
  const before = await histogram('validate');
  const quick = Array.from({ length: 5 }, () => review(openaiBackend()));
  for (const body of quick) expect((await server.client.postJson('/validate', body)).json.response.uid).toBe(body.request.uid);
  const slow = review(openaiBackend());
  const answer = await postSlowly('/validate', JSON.stringify(slow), PAUSE_MS);
  expect(answer.response).toMatchObject({ uid: slow.request.uid, allowed: true });

  // Lines and observations come when the answer has left: wait for the last one's line.
  const slowLine = await decisionLine(slow.request.uid);
  const after = await histogram('validate');
  expect(after.count - before.count).toBe(6);
  expect(after.sum - before.sum).toBeGreaterThanOrEqual((PAUSE_MS - SLACK_MS) / 1000);

  expect(slowLine.durationMs).toBeGreaterThanOrEqual(PAUSE_MS - SLACK_MS);
  for (const body of quick) {
    const line = await decisionLine(body.request.uid);
    expect(line.durationMs).toBeGreaterThan(0);
    expect(line.durationMs).toBeLessThan(60_000); // a duration, not a clock reading
  }
});

it('counts requests per endpoint: mutate requests move only the mutate series', async () => {
  const validateBefore = await histogram('validate');
  const mutateBefore = await histogram('mutate');
  for (let i = 0; i < 3; i++) expect((await server.client.postJson('/mutate', review(openaiBackend()))).status).toBe(200);
  const last = review(openaiBackend());
  await server.client.postJson('/mutate', last);
  await decisionLine(last.request.uid);
  expect((await histogram('mutate')).count - mutateBefore.count).toBe(4);
  expect((await histogram('validate')).count).toBe(validateBefore.count);
});
