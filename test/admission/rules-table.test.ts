/**
 * Every rule of the spec, through the real HTTPS server: the same data table the pure validation
 * tests use, sent as AdmissionReviews to /validate, asserting exact field paths and error types.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKEND_CASES, EXTENSION_SCHEMAS } from '../backend/cases.js';
import { review } from '../support/reviews.js';
import { expectCaseVerdict } from '../support/verdicts.js';
import { StaticSchemaRegistry } from '../support/static-registry.js';
import { TestServerPool, type TestServer } from '../support/test-server.js';

const pool = new TestServerPool(() => ({ registry: new StaticSchemaRegistry(EXTENSION_SCHEMAS) }));
const serverFor = (options: object | undefined): Promise<TestServer> => pool.for(options);

beforeAll(async () => {
  await serverFor(undefined);
});
afterAll(() => pool.close());

describe('spec rules through HTTPS /validate', () => {
  it('has a table that covers valid and invalid objects', () => {
    expect(BACKEND_CASES.filter((c) => c.expectErrors.length === 0).length).toBeGreaterThan(5);
    expect(BACKEND_CASES.filter((c) => c.expectErrors.length > 0).length).toBeGreaterThan(30);
  });

  for (const c of BACKEND_CASES) {
    it(c.name, async () => {
      const server = await serverFor(c.options);
      const body = review(c.object, { operation: c.operation ?? 'CREATE', oldObject: c.oldObject, kind: (c.object as { kind?: string }).kind });
      const res = await server.client.postJson('/validate', body);
      expect(res.status).toBe(200);
      const r = res.json.response;
      expect(r.uid).toBe(body.request.uid);
      expectCaseVerdict(r, c);
    });
  }
});
