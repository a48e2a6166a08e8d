/**
 * Every rule of the spec, through the real HTTPS server: the same data table the pure validation
 * tests use, sent as AdmissionReviews to /validate, asserting exact field paths and error types.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_VALIDATION_OPTIONS } from '../../src/backend/options.js';
import { BACKEND_CASES, EXTENSION_SCHEMAS } from '../backend/cases.js';
import { review } from '../support/reviews.js';
import { StaticSchemaRegistry } from '../support/static-registry.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

const servers = new Map<string, TestServer>();

/** One server per distinct option set in the table (options are server flags). */
async function serverFor(options: object | undefined): Promise<TestServer> {
  const key = JSON.stringify(options ?? {});
  let server = servers.get(key);
  if (!server) {
    server = await startTestServer({ registry: new StaticSchemaRegistry(EXTENSION_SCHEMAS), validation: { ...DEFAULT_VALIDATION_OPTIONS, ...(options ?? {}) } });
    servers.set(key, server);
  }
  return server;
}

beforeAll(async () => {
  await serverFor(undefined);
});
afterAll(async () => {
  await Promise.all([...servers.values()].map((s) => s.close()));
});

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
      const causes = (r.status?.details?.causes ?? []).map((x: { field: string; reason: string }) => ({ field: x.field, type: x.reason }));
      expect(causes).toEqual(expect.arrayContaining(c.expectErrors));
      expect(causes).toHaveLength(c.expectErrors.length);
      expect(r.allowed).toBe(c.expectErrors.length === 0);
      if (!r.allowed) {
        expect(r.status.code).toBe(422);
        expect(r.status.reason).toBe('Invalid');
        for (const cause of r.status.details.causes) expect(r.status.message).toContain(`${cause.field}: ${cause.message}`);
      }
      for (const pattern of c.expectWarnings ?? []) {
        expect(r.warnings ?? []).toEqual(expect.arrayContaining([expect.stringMatching(pattern)]));
      }
    });
  }
});
