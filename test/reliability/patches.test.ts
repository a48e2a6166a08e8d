/**
 * Every patch /mutate returns applies cleanly to the object it was computed for (as the API server
 * would apply it, validating each operation), and defaulting the patched object again yields no
 * patch at all (reinvocationPolicy IfNeeded calls us with our own output).
 */
import jsonpatch from 'fast-json-patch';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/admission/app.js';
import { backendArb, mostlyValidSpecArb, specArb } from './arbitraries.js';
import { expectWellFormedAnswer, inject, injectServer } from './helpers.js';
import { review } from '../support/reviews.js';

const SEED = Number(process.env.FUZZ_SEED ?? 0x9a7c4);

let app: App;
beforeAll(async () => {
  ({ app } = await injectServer());
});
afterAll(async () => {
  await app?.close();
});

async function mutate(object: unknown): Promise<{ ops: jsonpatch.Operation[] | undefined }> {
  const body = review(object);
  const answer = await inject(app, '/mutate', JSON.stringify(body));
  expectWellFormedAnswer(answer, { body, path: '/mutate' });
  expect(answer.status).toBe(200);
  const r = answer.json.response;
  // The mutating webhook never denies a Backend, whatever keys it carries (`__proto__` included:
  // validation refuses those with a field path).
  expect(r.allowed).toBe(true);
  return { ops: r.patch ? JSON.parse(Buffer.from(r.patch, 'base64').toString('utf8')) : undefined };
}

/** The property: apply validates (throws on any op that does not apply), then a second pass is empty. */
async function patchAppliesAndIsIdempotent(object: unknown): Promise<boolean> {
  const { ops } = await mutate(object);
  if (!ops) return false;
  const original = structuredClone(object);
  // validate=true: every op checked against the document first (parent exists, index in range...).
  const patched = jsonpatch.applyPatch(structuredClone(object), ops, true, false).newDocument;
  expect(object, 'the request object is not modified by the server').toEqual(original);
  const second = await mutate(patched);
  expect(second.ops, `second pass over ${JSON.stringify(patched)}`).toBeUndefined();
  return true;
}

describe('patches', () => {
  it('apply cleanly and are idempotent for mostly well-formed Backends', async () => {
    let patched = 0;
    await fc.assert(
      fc.asyncProperty(backendArb(mostlyValidSpecArb), async (object) => {
        if (await patchAppliesAndIsIdempotent(object)) patched++;
      }),
      { numRuns: 2000, seed: SEED },
    );
    // Most generated FQDN Backends have a port without tls: the property must be exercised.
    expect(patched).toBeGreaterThan(400);
  }, 180_000);

  it('apply cleanly and are idempotent for arbitrary (often broken) Backends', async () => {
    await fc.assert(
      fc.asyncProperty(backendArb(specArb), async (object) => {
        await patchAppliesAndIsIdempotent(object);
      }),
      { numRuns: 2000, seed: SEED },
    );
  }, 180_000);
});
