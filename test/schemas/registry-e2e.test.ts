/**
 * Issue 3 end to end: schemas registered as ConfigMaps in a (stand-in) API server, watched through
 * @kubernetes/client-node, judged by the real HTTPS webhook. Also the ConfigMap webhook at the door.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configMapEndpoint } from '../../src/admission/configmap-handler.js';
import { DEFAULT_VALIDATION_OPTIONS } from '../../src/backend/options.js';
import { Metrics } from '../../src/observability/metrics.js';
import { EXTENSION_SCHEMA_LABEL, EXTENSION_SCHEMA_SELECTOR, extensionSchemaReviewer } from '../../src/schemas/configmap.js';
import { ExtensionSchemaRegistry } from '../../src/schemas/extension-registry.js';
import { KubeConfigMapSource } from '../../src/schemas/kube-source.js';
import { CONFIGMAPS, FakeApiServer, type KubeObject } from '../support/fake-apiserver.js';
import { backend, review } from '../support/reviews.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

const TYPE = 'example.com/ToolFilter';
const NS = 'platform';

function schemaConfigMap(name: string, schema: object | string, namespace = NS): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace, labels: { [EXTENSION_SCHEMA_LABEL]: 'true' } },
    data: { type: TYPE, 'schema.json': typeof schema === 'string' ? schema : JSON.stringify(schema), description: 'tool filter' },
  };
}

const categories = (items: string[]) => ({
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  required: ['categories'],
  properties: { categories: { type: 'array', items: { enum: items } } },
});

const withFilter = (cats: unknown[]) =>
  backend({
    destination: { type: 'Fqdn', fqdn: { hostname: 'mcp.example.com' }, ports: [{ number: 443, protocol: 'MCP', tls: { mode: 'Simple' } }] },
    extensions: [{ name: 'filter', type: TYPE, rawConfig: { categories: cats } }],
  });

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

let api: FakeApiServer;
let dir: string;
let registry: ExtensionSchemaRegistry;
let server: TestServer;

const verdict = async (object: unknown) => (await server.client.postJson('/validate', review(object))).json.response;

beforeAll(async () => {
  api = await FakeApiServer.start();
  dir = mkdtempSync(join(tmpdir(), 'registry-e2e-'));
  registry = new ExtensionSchemaRegistry({ logger: pino({ level: 'silent' }), metrics: new Metrics() });
  const source = new KubeConfigMapSource({ labelSelector: EXTENSION_SCHEMA_SELECTOR, trustedNamespaces: [NS], kubeconfigPath: api.writeKubeconfig(dir), backoff: { initialMs: 20, maxMs: 200, resetAfterMs: 60_000 } });
  server = await startTestServer({
    registry,
    validation: DEFAULT_VALIDATION_OPTIONS,
    extraEndpoints: [configMapEndpoint({ reviewers: [extensionSchemaReviewer], isTrustedNamespace: (ns) => registry.isTrustedNamespace(ns) })],
  });
  // Listening, but the registry has not listed yet: not ready.
  expect((await server.client.send('GET', '/readyz')).status).toBe(503);
  await registry.start([source]);
  await until(() => registry.isReady(), 'first list');
});

afterAll(async () => {
  await server?.close();
  await registry?.stop();
  await api?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('extension schemas from ConfigMaps, through HTTPS', () => {
  it('is ready once the first full list is loaded', async () => {
    expect((await server.client.send('GET', '/readyz')).status).toBe(200);
  });

  it('applies the unknown-type policy before any schema is registered', async () => {
    const r = await verdict(withFilter(['search']));
    expect(r.allowed).toBe(false);
    expect(r.status.details.causes.map((c: any) => c.field)).toEqual(['spec.extensions[0].type']);
  });

  it('register, update, break, delete: each takes effect without restart', async () => {
    api.create(CONFIGMAPS, schemaConfigMap('tool-filter', categories(['search', 'fetch'])));
    await until(async () => (await verdict(withFilter(['search']))).allowed === true, 'schema registered');

    let r = await verdict(withFilter(['search', 'shell']));
    expect(r.allowed).toBe(false);
    expect(r.status.details.causes).toEqual([expect.objectContaining({ field: 'spec.extensions[0].rawConfig/categories/1', reason: 'FieldValueNotSupported' })]);

    const listed = (await server.client.send('GET', '/extensions')).json.types;
    expect(listed).toEqual([expect.objectContaining({ type: TYPE, compiled: true, description: 'tool filter', source: expect.objectContaining({ namespace: NS, name: 'tool-filter' }) })]);

    // Update: `shell` becomes allowed.
    api.update(CONFIGMAPS, schemaConfigMap('tool-filter', categories(['search', 'shell'])));
    await until(async () => (await verdict(withFilter(['search', 'shell']))).allowed === true, 'schema updated');

    // A broken update never replaces the last good schema.
    api.update(CONFIGMAPS, schemaConfigMap('tool-filter', '{"type": "object", "properties": '));
    await until(() => registry.list().some((row) => row.type === TYPE && row.error !== undefined), 'broken version seen');
    r = await verdict(withFilter(['search', 'shell']));
    expect(r.allowed).toBe(true);
    r = await verdict(withFilter(['fetch']));
    expect(r.allowed).toBe(false);

    // Delete: the unknown-type policy applies again.
    api.delete(CONFIGMAPS, NS, 'tool-filter');
    await until(async () => (await verdict(withFilter(['search']))).status?.details?.causes?.[0]?.field === 'spec.extensions[0].type', 'schema deleted');
  });

  it('ignores a labelled ConfigMap in an untrusted namespace', async () => {
    // Older, and first by name: had it been registered, it would win the type over the trusted one.
    const sneaky = schemaConfigMap('a-sneaky', categories(['anything']), 'team-a');
    sneaky.metadata.creationTimestamp = '2020-01-01T00:00:00Z';
    api.create(CONFIGMAPS, sneaky);
    // An untrusted claim on a type nobody else claims: had it been registered, it would serve.
    const lone = schemaConfigMap('lone', categories(['anything']), 'team-a');
    (lone.data as Record<string, string>).type = 'example.com/Lone';
    lone.metadata.creationTimestamp = '2020-01-01T00:00:00Z';
    api.create(CONFIGMAPS, lone);
    api.create(CONFIGMAPS, schemaConfigMap('marker', categories(['search']), NS));
    await until(async () => (await verdict(withFilter(['search']))).allowed === true, 'marker registered');
    // The untrusted ones never took effect: `anything` is still refused by the trusted schema...
    const r = await verdict(withFilter(['anything']));
    expect(r.allowed).toBe(false);
    expect(r.status.details.causes).toEqual([expect.objectContaining({ field: 'spec.extensions[0].rawConfig/categories/0', reason: 'FieldValueNotSupported' })]);
    // ...the lone type is still unknown...
    const loneBackend = withFilter(['anything']);
    loneBackend.spec.extensions[0].type = 'example.com/Lone';
    expect((await verdict(loneBackend)).status.details.causes.map((c: any) => c.field)).toEqual(['spec.extensions[0].type']);
    // ...and only the trusted ConfigMap is listed.
    const listed = (await server.client.send('GET', '/extensions')).json.types;
    expect(listed.map((row: any) => `${row.source.namespace}/${row.source.name}`)).toEqual([`${NS}/marker`]);
  });
});

describe('the ConfigMap webhook at the door', () => {
  const reviewConfigMap = async (cm: KubeObject) => {
    const body = review(cm, { kind: 'ConfigMap' });
    body.request.kind = { group: '', version: 'v1', kind: 'ConfigMap' };
    body.request.resource = { group: '', version: 'v1', resource: 'configmaps' };
    body.request.namespace = cm.metadata.namespace;
    body.request.name = cm.metadata.name;
    return (await server.client.postJson('/validate-extension-schema', body)).json.response;
  };

  it('accepts a good schema', async () => {
    expect((await reviewConfigMap(schemaConfigMap('good', categories(['a'])))).allowed).toBe(true);
  });

  it('refuses invalid JSON, a schema that does not compile and a malformed type, with the reason', async () => {
    let r = await reviewConfigMap(schemaConfigMap('bad-json', '{"type": '));
    expect(r.allowed).toBe(false);
    expect(r.status.details).toMatchObject({ kind: 'ConfigMap', group: '', name: 'bad-json' });
    expect(r.status.details.causes).toEqual([expect.objectContaining({ field: 'data[schema.json]' })]);
    expect(r.status.details.causes[0].message).toMatch(/JSON/);

    r = await reviewConfigMap(schemaConfigMap('bad-schema', { type: 'object', properties: { a: { type: 'no-such-type' } } }));
    expect(r.allowed).toBe(false);
    expect(r.status.details.causes[0].field).toBe('data[schema.json]');

    const badType = schemaConfigMap('bad-type', categories(['a']));
    (badType.data as Record<string, string>).type = 'NoGroup';
    r = await reviewConfigMap(badType);
    expect(r.allowed).toBe(false);
    expect(r.status.details.causes.map((c: any) => c.field)).toEqual(['data.type']);
  });

  it('warns that a schema in an untrusted namespace will be ignored', async () => {
    const r = await reviewConfigMap(schemaConfigMap('elsewhere', categories(['a']), 'team-a'));
    expect(r.allowed).toBe(true);
    expect(r.warnings).toEqual(['namespace team-a is not trusted: this extension schema will be ignored']);
  });

  it('lets unlabelled ConfigMaps through untouched', async () => {
    const cm = schemaConfigMap('plain', '{not json');
    delete cm.metadata.labels;
    expect(await reviewConfigMap(cm)).toEqual({ uid: expect.any(String), allowed: true });
  });
});
