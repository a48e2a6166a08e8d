/**
 * Issue 12.2, against the shipped program: `node dist/main.js serve` with the Deployment's V8 heap
 * limit takes 16 concurrent bodies just under the body limit, each built to produce as many field
 * errors as its bytes allow, and survives: every answer is a well-formed AdmissionReview echoing
 * the uid (a denial, or the documented 429 refusal of the memory budget), each under 64 KiB.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, REPO, runProgram, startProgram, type RunningProgram } from '../support/built-program.js';
import { HttpsClient } from '../support/https-client.js';
import { HOSTILE_VARIANTS, hostileBody } from '../support/hostile-bodies.js';
import { openaiBackend, review } from '../support/reviews.js';

/** The heap flag the Deployment runs with (manifests/deployment.yaml, NODE_OPTIONS). */
function deploymentNodeOptions(): string {
  const docs = parseAllDocuments(readFileSync(join(REPO, 'manifests/deployment.yaml'), 'utf8')).map((d) => d.toJS());
  const container = docs.find((d) => d?.kind === 'Deployment').spec.template.spec.containers[0];
  const value: string = container.env.find((e: { name: string }) => e.name === 'NODE_OPTIONS').value;
  expect(value).toMatch(/--max-old-space-size=\d+/);
  return value;
}

const BODY_LIMIT = 7 * 1024 * 1024; // the default --body-limit, which the Deployment keeps
const MAX_ANSWER_BYTES = 64 * 1024;

describe('16 concurrent worst-case bodies under the Deployment heap limit', () => {
  let dir: string;
  let program: RunningProgram;
  let client: HttpsClient;

  beforeAll(async () => {
    await ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'bounds-'));
    program = startProgram(['serve', '--port', '0', '--host', '127.0.0.1', '--metrics-port', '0', '--cert-dir', dir], { NODE_OPTIONS: deploymentNodeOptions() });
    const listening = await program.waitForLog((l) => l.msg === 'backend-webhook listening', 60_000);
    client = new HttpsClient(`https://localhost:${listening.port}`, readFileSync(join(dir, 'ca.crt')));
  }, 90_000);

  afterAll(async () => {
    client?.close();
    await program?.kill();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('survives, and every answer is a small, well-formed AdmissionReview for its uid', async () => {
    const requests = Array.from({ length: 16 }, (_, i) => {
      const uid = randomUUID();
      const body = hostileBody(HOSTILE_VARIANTS[i % HOSTILE_VARIANTS.length]!, uid, BODY_LIMIT - 1024);
      expect(body.length).toBeLessThan(BODY_LIMIT);
      expect(body.length).toBeGreaterThan(BODY_LIMIT - 64 * 1024);
      return { uid, body, path: i % 4 === 3 ? '/mutate?timeout=30s' : '/validate?timeout=30s' };
    });
    const answers = await Promise.all(requests.map((r) => client.send('POST', r.path, r.body, { 'content-type': 'application/json' })));

    const codes: number[] = [];
    answers.forEach((answer, i) => {
      expect(answer.status).toBe(200);
      expect(Buffer.byteLength(answer.text)).toBeLessThan(MAX_ANSWER_BYTES);
      expect(answer.json).toMatchObject({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: requests[i]!.uid } });
      const response = answer.json.response;
      if (requests[i]!.path.startsWith('/mutate') && response.allowed) {
        // Defaulting leaves an object it cannot sensibly default alone: no patch of megabytes.
        codes.push(200);
        return;
      }
      expect(response.allowed).toBe(false);
      codes.push(response.status.code);
      if (response.status.code === 429) {
        expect(response.status).toMatchObject({ reason: 'TooManyRequests', message: expect.stringMatching(/retry/) });
      } else {
        expect(response.status).toMatchObject({ code: 422, reason: 'Invalid' });
        expect(response.status.details.causes.length).toBeGreaterThan(0);
        expect(response.status.details.causes.length).toBeLessThanOrEqual(101);
      }
    });
    // Every validating request is answered: judged (422) or refused for lack of room (429).
    expect(codes.every((c) => [200, 422, 429].includes(c))).toBe(true);
    expect(codes.filter((c) => c === 422).length).toBeGreaterThan(0);

    expect(program.child.exitCode).toBeNull();
    // Still serving ordinary admissions afterwards.
    const after = await client.postJson('/validate?timeout=30s', review(openaiBackend()));
    expect(after.json.response.allowed).toBe(true);
  }, 240_000);
});

describe('--admission-memory-budget', () => {
  it('must hold at least one body of --body-limit: exit 2 with one line', async () => {
    await ensureBuilt();
    const r = runProgram(['serve', '--port', '0', '--metrics-port', '0', '--body-limit', '2Mi', '--admission-memory-budget', '1Mi']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual(['error: --admission-memory-budget (1048576 bytes) must be at least --body-limit (2097152 bytes)']);
    const env = runProgram(['serve'], { env: { BACKEND_WEBHOOK_ADMISSION_MEMORY_BUDGET: 'lots' } });
    expect(env.code).toBe(2);
    expect(env.stderr).toMatch(/must be a size from 1Ki to 1Gi/);
  });
});
