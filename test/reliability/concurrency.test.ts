/**
 * Hundreds of concurrent admissions over HTTPS while the schema of an extension type flips between
 * two versions through the registry's real update path (ConfigMap "updated" events, compiled each
 * time). One admission is judged against one snapshot: every answer equals the old schema's verdict
 * or the new one's, never a mix of the two, and nothing errors.
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExtensionSchemaRegistry } from '../../src/schemas/extension-registry.js';
import type { ConfigMapObject } from '../../src/schemas/source.js';
import { HttpsClient } from '../support/https-client.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { backend, review } from '../support/reviews.js';

const TYPE = 'example.com/Flip:v1';
const SCHEMA_A = { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', required: ['categories'], additionalProperties: false, properties: { categories: { type: 'array', items: { type: 'string' } } } };
const SCHEMA_B = { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', required: ['mode'], additionalProperties: false, properties: { mode: { enum: ['strict', 'lax'] } } };

/** Three extensions of the flipping type: A refuses the middle one, B refuses the outer two. */
const object = backend({
  destination: { type: 'Fqdn', fqdn: { hostname: 'api.openai.com' }, ports: [{ number: 443, protocol: 'HTTP', tls: { mode: 'Simple' } }] },
  extensions: [
    { name: 'e0', type: TYPE, rawConfig: { categories: ['search'] } },
    { name: 'e1', type: TYPE, rawConfig: { mode: 'strict' } },
    { name: 'e2', type: TYPE, rawConfig: { categories: ['fetch'] } },
  ],
});

let registry: ExtensionSchemaRegistry;
let server: TestServer;
let client: HttpsClient;
let resourceVersion = 0;

function publish(schema: object): void {
  resourceVersion++;
  const configMap: ConfigMapObject = {
    metadata: { name: 'flip', namespace: 'backend-webhook-system', resourceVersion: String(resourceVersion), creationTimestamp: '2025-01-01T00:00:00Z' },
    data: { type: TYPE, 'schema.json': JSON.stringify(schema) },
  };
  registry.handle('test', { type: 'updated', key: 'backend-webhook-system/flip', configMap, origin: { kind: 'configmap', trusted: true } });
}

beforeAll(async () => {
  registry = new ExtensionSchemaRegistry({ logger: pino({ level: 'silent' }) });
  await registry.start([]);
  publish(SCHEMA_A);
  server = await startTestServer({ registry });
  // Real concurrency on the server: many sockets, not the default 16.
  client = new HttpsClient(server.url, server.ca, { maxSockets: 128 } as object);
});
afterAll(async () => {
  client?.close();
  await server?.close();
  await registry?.stop();
});

interface Verdict {
  allowed: boolean;
  causes: string[];
}

async function judge(): Promise<Verdict> {
  const body = review(object);
  const res = await client.postJson('/validate', body);
  expect(res.status).toBe(200);
  expect(res.json.response.uid).toBe(body.request.uid);
  const r = res.json.response;
  return { allowed: r.allowed, causes: ((r.status?.details?.causes ?? []) as Array<{ field: string; reason: string; message: string }>).map((c) => `${c.field}|${c.reason}|${c.message}`) };
}

describe('schema changes under concurrent admissions', () => {
  it('every answer is the old schema verdict or the new one, never a mix', async () => {
    publish(SCHEMA_A);
    const underA = await judge();
    publish(SCHEMA_B);
    const underB = await judge();
    // The two verdicts are distinct and each names only its own extensions.
    expect(underA.causes.length).toBeGreaterThan(0);
    expect(underB.causes.length).toBeGreaterThan(0);
    expect(underA.causes.every((c) => c.startsWith('spec.extensions[1]'))).toBe(true);
    expect(underB.causes.some((c) => c.startsWith('spec.extensions[0]')) && underB.causes.some((c) => c.startsWith('spec.extensions[2]'))).toBe(true);
    expect(underB.causes.some((c) => c.startsWith('spec.extensions[1]'))).toBe(false);

    const seen = { a: 0, b: 0 };
    let flips = 0;
    let useA = true;
    // Flip on every turn of the event loop while requests are in flight.
    let flipping = true;
    const flipper = (): void => {
      if (!flipping) return;
      useA = !useA;
      publish(useA ? SCHEMA_A : SCHEMA_B);
      flips++;
      setImmediate(flipper);
    };
    setImmediate(flipper);
    try {
      for (let round = 0; round < 5; round++) {
        const verdicts = await Promise.all(Array.from({ length: 300 }, () => judge()));
        for (const v of verdicts) {
          const isA = JSON.stringify(v) === JSON.stringify(underA);
          const isB = JSON.stringify(v) === JSON.stringify(underB);
          expect(isA || isB, `a mixed verdict: ${JSON.stringify(v)}`).toBe(true);
          if (isA) seen.a++;
          if (isB) seen.b++;
        }
        if (seen.a > 0 && seen.b > 0 && round >= 1) break;
      }
    } finally {
      flipping = false;
    }
    // The flips really interleaved with the admissions.
    expect(flips).toBeGreaterThan(10);
    expect(seen.a).toBeGreaterThan(0);
    expect(seen.b).toBeGreaterThan(0);
  }, 120_000);

  it('a schema update that fails to compile mid-traffic leaves the last good one in force', async () => {
    publish(SCHEMA_A);
    const underA = await judge();
    const pending = Array.from({ length: 200 }, () => judge());
    // A broken version arrives while the admissions run.
    resourceVersion++;
    registry.handle('test', {
      type: 'updated',
      key: 'backend-webhook-system/flip',
      configMap: { metadata: { name: 'flip', namespace: 'backend-webhook-system', resourceVersion: String(resourceVersion), creationTimestamp: '2025-01-01T00:00:00Z' }, data: { type: TYPE, 'schema.json': '{"type": "object", "properties": {' } },
      origin: { kind: 'configmap', trusted: true },
    });
    for (const v of await Promise.all(pending)) expect(v).toEqual(underA);
    expect(await judge()).toEqual(underA);
  }, 60_000);
});
