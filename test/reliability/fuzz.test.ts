/**
 * Property-based fuzzing of both admission endpoints through `app.inject` (the full Fastify stack:
 * body reader, JSON screening, review codec, handlers), thousands of generated bodies per property.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/admission/app.js';
import { backendArb, reviewArb, specArb } from './arbitraries.js';
import { expectWellFormedAnswer, inject, injectServer, prng, shuffledJson, verdictOf } from './helpers.js';
import { review } from '../support/reviews.js';

const PATHS = ['/validate', '/mutate'] as const;
/** Fixed seed per run: a failure is reproducible; fast-check prints the seed and counterexample. */
const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed);

let app: App;
beforeAll(async () => {
  ({ app } = await injectServer());
});
afterAll(async () => {
  await app?.close();
});

describe('any body gets a well-formed answer', () => {
  it('arbitrary JSON values', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 6 }), fc.constantFrom(...PATHS), async (value, path) => {
        const answer = await inject(app, path, JSON.stringify(value));
        expectWellFormedAnswer(answer, { body: value, path });
      }),
      { numRuns: 1500, seed: SEED },
    );
  }, 120_000);

  it('arbitrary text and bytes, JSON or not', async () => {
    const body = fc.oneof(
      fc.string({ maxLength: 200 }).map((s) => Buffer.from(s)),
      fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
      // Valid reviews cut short or with a byte flipped.
      fc.tuple(fc.nat(), fc.nat(255)).map(([cut, byte]) => {
        const text = Buffer.from(JSON.stringify(review({ apiVersion: 'x', kind: 'Backend', metadata: { name: 'a' }, spec: {} })));
        const at = cut % text.length;
        const copy = Buffer.from(text);
        copy[at] = byte;
        return cut % 2 === 0 ? copy : text.subarray(0, at);
      }),
    );
    const contentType = fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/yaml', 'APPLICATION/JSON');
    await fc.assert(
      fc.asyncProperty(body, fc.constantFrom(...PATHS), contentType, async (payload, path, type) => {
        const answer = await inject(app, path, payload, type);
        let parsed: unknown;
        try {
          parsed = JSON.parse(payload.toString('utf8'));
        } catch {
          parsed = undefined;
        }
        expectWellFormedAnswer(answer, { body: parsed, path });
      }),
      { numRuns: 1500, seed: SEED },
    );
  }, 120_000);

  it('AdmissionReview-shaped bodies with arbitrary Backend specs', async () => {
    let reviews = 0;
    let judged = 0;
    await fc.assert(
      fc.asyncProperty(reviewArb, fc.constantFrom(...PATHS), async (body, path) => {
        const answer = await inject(app, path, JSON.stringify(body));
        expectWellFormedAnswer(answer, { body, path });
        if (answer.status === 200) reviews++;
        const audit = answer.status === 200 ? answer.json.response.auditAnnotations : undefined;
        // Reached validateBackend / defaultBackend, not an envelope refusal.
        if (audit?.['validation-result'] !== undefined || audit?.['defaulted-count'] !== undefined) judged++;
      }),
      { numRuns: 3000, seed: SEED },
    );
    // The generator must reach the judges, not only the envelope checks.
    expect(reviews).toBeGreaterThan(1500);
    expect(judged).toBeGreaterThan(1500);
  }, 180_000);
});

describe('the verdict does not depend on key order', () => {
  it('same allowed, causes, warnings and patch for a recursively key-shuffled review', async () => {
    await fc.assert(
      fc.asyncProperty(backendArb(specArb), fc.constantFrom(...PATHS), fc.integer(), fc.boolean(), async (object, path, seed, asUpdate) => {
        const body = asUpdate ? review(object, { operation: 'UPDATE', oldObject: object, uid: 'fixed-uid' }) : review(object, { uid: 'fixed-uid' });
        const plain = await inject(app, path, JSON.stringify(body));
        const shuffled = await inject(app, path, shuffledJson(body, prng(seed)));
        expectWellFormedAnswer(plain, { body, path });
        expectWellFormedAnswer(shuffled, { body, path });
        expect(verdictOf(shuffled)).toEqual(verdictOf(plain));
      }),
      { numRuns: 1500, seed: SEED },
    );
  }, 180_000);
});
