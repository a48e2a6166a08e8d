/**
 * Every patch /mutate returns applies cleanly to the object it was computed for (as the API server
 * would apply it, validating each operation), and defaulting the patched object again yields no
 * patch at all (reinvocationPolicy IfNeeded calls us with our own output).
 */
import jsonpatch from 'fast-json-patch';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/admission/app.js';
import { mutateRequest } from '../../src/admission/handlers.js';
import { DEFAULT_VALIDATION_OPTIONS } from '../../src/backend/options.js';
import { backendArb, mostlyValidSpecArb, specArb } from './arbitraries.js';
import { expectWellFormedAnswer, extensionSchema, inject, injectServer, lookupOf, TOOL_FILTER_SCHEMA, TOOL_FILTER_TYPE } from './helpers.js';
import { review } from '../support/reviews.js';
import { StaticSchemaRegistry } from '../support/static-registry.js';

const SEED = Number(process.env.FUZZ_SEED ?? 0x9a7c4);

let app: App;
/**
 * The request object as the server holds it after the mutating processor ran, by uid: /mutate's
 * own processor behind a second path that keeps what it was handed (the route, body reader and
 * decoder are the server's).
 */
const judgedObjects = new Map<string, unknown>();
const MUTATE = '/mutate-observed';
beforeAll(async () => {
  const registry = new StaticSchemaRegistry(lookupOf(extensionSchema(TOOL_FILTER_TYPE, TOOL_FILTER_SCHEMA)));
  ({ app } = await injectServer({
    registry,
    extraEndpoints: [
      {
        path: MUTATE,
        name: 'mutate',
        handle: (req) => {
          const verdict = mutateRequest(req, { schemas: registry.snapshot(), options: DEFAULT_VALIDATION_OPTIONS });
          judgedObjects.set(req.uid, req.object);
          return verdict;
        },
      },
    ],
  }));
});
afterAll(async () => {
  await app?.close();
});

async function mutate(object: unknown): Promise<{ ops: jsonpatch.Operation[] | undefined; judged: unknown }> {
  const body = review(object);
  const text = JSON.stringify(body);
  const answer = await inject(app, MUTATE, text);
  expectWellFormedAnswer(answer, { body, path: MUTATE });
  // The answer is /mutate's: the observed path runs the same processor.
  const plain = await inject(app, '/mutate', text);
  expect(plain.json?.response, 'the same answer as /mutate').toEqual(answer.json?.response);
  expect(answer.status).toBe(200);
  const r = answer.json.response;
  // The mutating webhook never denies a Backend, whatever keys it carries (`__proto__` included:
  // validation refuses those with a field path).
  expect(r.allowed).toBe(true);
  const judged = judgedObjects.get(body.request.uid);
  judgedObjects.delete(body.request.uid);
  // What the processor left in the request it was handed is still what was sent (parsed from the
  // very text on the wire): defaulting worked on a copy, and the patch is relative to the original.
  expect(judged, 'the server judged this request').toBeDefined();
  expect(judged, 'the server did not modify the request object').toEqual(JSON.parse(text).request.object);
  return { ops: r.patch ? JSON.parse(Buffer.from(r.patch, 'base64').toString('utf8')) : undefined, judged };
}

/** The property: apply validates (throws on any op that does not apply), then a second pass is empty. */
async function patchAppliesAndIsIdempotent(object: unknown): Promise<boolean> {
  const { ops, judged } = await mutate(object);
  if (!ops) return false;
  // validate=true: every op checked against the document first (parent exists, index in range...),
  // applied to the object exactly as the server decoded it.
  const patched = jsonpatch.applyPatch(structuredClone(judged), ops, true, false).newDocument;
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
