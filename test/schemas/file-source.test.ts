import { mkdtempSync, rmSync, writeFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXTENSION_SCHEMA_SELECTOR } from '../../src/schemas/configmap.js';
import { ExtensionSchemaRegistry } from '../../src/schemas/extension-registry.js';
import { configMapsFromText, defaultExtensionSchemaDir, FileConfigMapSource, FileSourceError } from '../../src/schemas/file-source.js';
import type { ConfigMapSourceEvent } from '../../src/schemas/source.js';

const LABEL = 'ainetworking.prototype.x-k8s.io/extension-schema';

const cmYaml = (name: string, type: string, schema: unknown, labelled = true) => `apiVersion: v1
kind: ConfigMap
metadata:
  name: ${name}
  namespace: platform
${labelled ? `  labels:\n    ${LABEL}: "true"\n` : ''}data:
  type: ${type}
  schema.json: '${JSON.stringify(schema)}'
`;

async function until(cond: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('configMapsFromText', () => {
  it('reads multi-document YAML, flattens Lists and skips other kinds', () => {
    const text = `${cmYaml('a', 'example.com/A', {})}---
apiVersion: v1
kind: Secret
metadata: {name: s}
---
apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: ConfigMap
    metadata: {name: b}
    data: {type: example.com/B, version: 1}
`;
    const r = configMapsFromText(text);
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.configMaps.map((c) => c.metadata.name)).toEqual(['a', 'b']);
      expect(r.configMaps[1]!.data).toEqual({ type: 'example.com/B', version: '1' });
    }
  });
  it('reads JSON', () => {
    const r = configMapsFromText(JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'j' }, data: { type: 'x' } }));
    expect(r.ok && r.configMaps[0]!.metadata.name).toBe('j');
  });
  it('reports a YAML syntax error', () => {
    const r = configMapsFromText('kind: ConfigMap\nmetadata: {name: [\n');
    expect(r.ok).toBe(false);
  });
});

describe('FileConfigMapSource', () => {
  let dir: string;
  let source: FileConfigMapSource | undefined;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'schemas-'));
  });
  afterEach(async () => {
    await source?.stop();
    source = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads the matching ConfigMaps as trusted file ConfigMaps, then reports synced', async () => {
    writeFileSync(path.join(dir, 'a.yaml'), cmYaml('a', 'example.com/A', { type: 'object' }));
    writeFileSync(path.join(dir, 'unlabelled.yaml'), cmYaml('u', 'example.com/U', {}, false));
    writeFileSync(path.join(dir, 'notes.txt'), 'ignored');
    const events: ConfigMapSourceEvent[] = [];
    source = new FileConfigMapSource({ paths: [dir], labelSelector: EXTENSION_SCHEMA_SELECTOR });
    expect(source.hasSynced()).toBe(false);
    await source.start((e) => events.push(e));
    expect(source.hasSynced()).toBe(true);
    expect(events.map((e) => e.type)).toEqual(['added', 'synced']);
    const added = events[0]!;
    expect(added.type === 'added' && added.origin).toEqual({ kind: 'file', path: path.join(dir, 'a.yaml'), trusted: true });
  });

  it('refuses a path that does not exist', async () => {
    source = new FileConfigMapSource({ paths: [path.join(dir, 'missing')] });
    await expect(source.start(() => {})).rejects.toBeInstanceOf(FileSourceError);
  });

  it('emits updates and deletes on reload, and keeps a file’s ConfigMaps when it becomes unparsable', async () => {
    const file = path.join(dir, 'a.yaml');
    writeFileSync(file, cmYaml('a', 'example.com/A', { type: 'object' }));
    const events: ConfigMapSourceEvent[] = [];
    source = new FileConfigMapSource({ paths: [dir] });
    await source.start((e) => events.push(e));
    events.length = 0;

    await source.reload();
    expect(events).toEqual([]); // unchanged content: nothing to say

    writeFileSync(file, 'kind: ConfigMap\nmetadata: {name: [\n');
    await source.reload();
    expect(events.map((e) => e.type)).toEqual(['error']);
    events.length = 0;

    writeFileSync(file, cmYaml('a', 'example.com/A', { type: 'string' }));
    await source.reload();
    expect(events.map((e) => e.type)).toEqual(['updated']);
    events.length = 0;

    unlinkSync(file);
    await source.reload();
    expect(events.map((e) => e.type)).toEqual(['deleted']);
  });

  it('watches the directory and feeds the registry live', async () => {
    const registry = new ExtensionSchemaRegistry({ logger: pino({ level: 'silent' }) });
    source = new FileConfigMapSource({ paths: [dir], labelSelector: EXTENSION_SCHEMA_SELECTOR, watch: true, debounceMs: 20 });
    await registry.start([source]);
    expect(registry.isReady()).toBe(true);
    expect(registry.snapshot().get('example.com/A')).toBeUndefined();

    writeFileSync(path.join(dir, 'a.yaml'), cmYaml('a', 'example.com/A', { type: 'object', required: ['x'] }));
    await until(() => registry.snapshot().get('example.com/A') !== undefined, 'the new file to load');
    expect(registry.snapshot().get('example.com/A')!.validate({})).toBe(false);

    writeFileSync(path.join(dir, 'a.yaml'), cmYaml('a', 'example.com/A', { type: 'object' }));
    await until(() => registry.snapshot().get('example.com/A')?.validate({}) === true, 'the edit to apply');

    unlinkSync(path.join(dir, 'a.yaml'));
    await until(() => registry.snapshot().get('example.com/A') === undefined, 'the delete to apply');
    await registry.stop();
  });

  it('the embedded default schemas load and compile', async () => {
    const registry = new ExtensionSchemaRegistry({ logger: pino({ level: 'silent' }) });
    await registry.start([new FileConfigMapSource({ paths: [defaultExtensionSchemaDir()], labelSelector: EXTENSION_SCHEMA_SELECTOR })]);
    const rows = registry.list();
    expect(rows.map((r) => r.type)).toEqual(['example.com/ToolFilter', 'gateway.networking.k8s.io/CredentialInjector:v1']);
    expect(rows.every((r) => r.compiled)).toBe(true);
    const injector = registry.snapshot().get('gateway.networking.k8s.io/CredentialInjector:v1')!;
    expect(injector.validate({ secretRef: { name: 'token' } })).toBe(true);
    expect(injector.validate({})).toBe(false);
    const filter = registry.snapshot().get('example.com/ToolFilter')!;
    expect(filter.validate({ categories: ['search'] })).toBe(true);
    expect(filter.validate({ categories: ['search', 'teleport'] })).toBe(false);
    expect(filter.validate.errors?.[0]?.instancePath).toBe('/categories/1');
    await registry.stop();
  });
});
