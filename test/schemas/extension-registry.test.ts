import { pino } from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import { Metrics } from '../../src/observability/metrics.js';
import { ExtensionSchemaRegistry } from '../../src/schemas/extension-registry.js';
import type { ConfigMapObject, ConfigMapSource, ConfigMapSourceEvent, ConfigMapSourceHandler } from '../../src/schemas/source.js';

const TYPE = 'example.com/ToolFilter';

function schemaCm(
  name: string,
  opts: { namespace?: string; rv?: string; created?: string; type?: string; schema?: unknown; schemaText?: string; description?: string } = {},
): ConfigMapObject {
  const schemaText = opts.schemaText ?? JSON.stringify(opts.schema ?? { type: 'object', required: ['a'] });
  return {
    metadata: {
      name,
      namespace: opts.namespace ?? 'platform',
      resourceVersion: opts.rv ?? '1',
      creationTimestamp: opts.created ?? '2025-01-01T00:00:00Z',
      labels: { 'ainetworking.prototype.x-k8s.io/extension-schema': 'true' },
    },
    data: { type: opts.type ?? TYPE, 'schema.json': schemaText, ...(opts.description ? { description: opts.description } : {}) },
  };
}

/** A source driven by the test. */
class ManualSource implements ConfigMapSource {
  handler: ConfigMapSourceHandler | undefined;
  synced = false;
  stopped = false;
  constructor(readonly id: string) {}
  async start(handler: ConfigMapSourceHandler): Promise<void> {
    this.handler = handler;
  }
  async stop(): Promise<void> {
    this.stopped = true;
  }
  hasSynced(): boolean {
    return this.synced;
  }
  emit(event: ConfigMapSourceEvent): void {
    this.handler!(event);
  }
  put(cm: ConfigMapObject, trusted = true, type: 'added' | 'updated' = 'added'): void {
    this.emit({ type, key: `${cm.metadata.namespace}/${cm.metadata.name}`, configMap: cm, origin: { kind: 'configmap', trusted } });
  }
  del(cm: ConfigMapObject): void {
    this.emit({ type: 'deleted', key: `${cm.metadata.namespace}/${cm.metadata.name}`, configMap: cm, origin: { kind: 'configmap', trusted: true } });
  }
}

async function eventCount(metrics: Metrics, event: string): Promise<number> {
  const data = await metrics.registryEvents.get();
  return data.values.find((v) => v.labels.event === event && v.labels.registry === 'extension-schemas')?.value ?? 0;
}

describe('ExtensionSchemaRegistry', () => {
  let metrics: Metrics;
  let registry: ExtensionSchemaRegistry;
  let source: ManualSource;

  beforeEach(async () => {
    metrics = new Metrics();
    registry = new ExtensionSchemaRegistry({ logger: pino({ level: 'silent' }), metrics });
    source = new ManualSource('kubernetes');
    await registry.start([source]);
  });

  it('is ready only once every source has synced, and stop() stops the sources', async () => {
    const files = new ManualSource('files');
    const r = new ExtensionSchemaRegistry({ logger: pino({ level: 'silent' }) });
    expect(r.isReady()).toBe(false);
    await r.start([source, files]);
    expect(r.isReady()).toBe(false);
    source.synced = true;
    expect(r.isReady()).toBe(false);
    files.synced = true;
    expect(r.isReady()).toBe(true);
    await r.stop();
    expect(source.stopped && files.stopped).toBe(true);
  });

  it('loads a schema and serves it through a snapshot', async () => {
    source.put(schemaCm('tool-filter', { description: 'filters tools' }));
    const schema = registry.snapshot().get(TYPE);
    expect(schema?.validate({ a: 1 })).toBe(true);
    expect(schema?.validate({})).toBe(false);
    expect(schema?.origin).toMatchObject({ kind: 'configmap', namespace: 'platform', name: 'tool-filter', resourceVersion: '1' });
    expect(registry.list()).toEqual([
      { type: TYPE, source: { kind: 'configmap', namespace: 'platform', name: 'tool-filter' }, resourceVersion: '1', description: 'filters tools', compiled: true },
    ]);
    expect(await eventCount(metrics, 'loaded')).toBe(1);
    expect((await metrics.registrySize.get()).values.find((v) => v.labels.source === 'configmap')?.value).toBe(1);
  });

  it('compiles once per resourceVersion: a repeated event (re-list) changes nothing', async () => {
    source.put(schemaCm('tool-filter'));
    const first = registry.snapshot().get(TYPE);
    source.put(schemaCm('tool-filter'), true, 'updated');
    expect(registry.snapshot().get(TYPE)).toBe(first);
    expect(await eventCount(metrics, 'replaced')).toBe(0);
    source.put(schemaCm('tool-filter', { rv: '2', schema: { type: 'object', required: ['b'] } }), true, 'updated');
    expect(registry.snapshot().get(TYPE)?.validate({ b: 1 })).toBe(true);
    expect(await eventCount(metrics, 'replaced')).toBe(1);
  });

  it('keeps the last good schema when an update does not compile, and records the error', async () => {
    source.put(schemaCm('tool-filter'));
    source.put(schemaCm('tool-filter', { rv: '2', schemaText: '{ broken' }), true, 'updated');
    const schema = registry.snapshot().get(TYPE);
    expect(schema?.origin.resourceVersion).toBe('1');
    expect(schema?.validate({ a: 1 })).toBe(true);
    const [row] = registry.list();
    expect(row).toMatchObject({ type: TYPE, compiled: true, resourceVersion: '1' });
    expect(row?.error).toMatch(/resourceVersion 2: data\[schema\.json\]: Invalid value: not valid JSON/);
    expect(await eventCount(metrics, 'rejected')).toBe(1);

    // A later good version clears the error.
    source.put(schemaCm('tool-filter', { rv: '3', schema: { type: 'object' } }), true, 'updated');
    expect(registry.list()[0]).not.toHaveProperty('error');
    expect(registry.snapshot().get(TYPE)?.origin.resourceVersion).toBe('3');
  });

  it('keeps the last good schema when an update makes the type malformed', async () => {
    source.put(schemaCm('tool-filter'));
    source.put(schemaCm('tool-filter', { rv: '2', type: 'not-a-type' }), true, 'updated');
    expect(registry.snapshot().get(TYPE)?.origin.resourceVersion).toBe('1');
    expect(registry.list()[0]?.error).toContain('data.type');
  });

  it('lists a ConfigMap that never compiled, without serving anything for it', () => {
    source.put(schemaCm('broken', { schema: { type: 'strin' } }));
    expect(registry.snapshot().get(TYPE)).toBeUndefined();
    expect(registry.list()).toEqual([
      expect.objectContaining({ type: TYPE, compiled: false, source: { kind: 'configmap', namespace: 'platform', name: 'broken' }, error: expect.stringContaining('not a compilable schema') }),
    ]);
  });

  it('ignores and counts ConfigMaps from untrusted namespaces', async () => {
    source.put(schemaCm('evil', { namespace: 'tenant-a' }), false);
    source.put(schemaCm('evil', { namespace: 'tenant-a' }), false); // same version: counted once
    expect(registry.snapshot().get(TYPE)).toBeUndefined();
    expect(registry.list()).toEqual([]);
    expect(await eventCount(metrics, 'ignored_untrusted')).toBe(1);
  });

  it('resolves two claims on one type to the oldest, reports the other, and hands over on delete', async () => {
    const newer = schemaCm('newer', { created: '2025-06-01T00:00:00Z', schema: { type: 'object', required: ['newer'] } });
    const older = schemaCm('older', { created: '2025-01-01T00:00:00Z', schema: { type: 'object', required: ['older'] } });
    source.put(newer);
    expect(registry.snapshot().get(TYPE)?.origin.name).toBe('newer');
    source.put(older); // arrives later but was created first: it wins
    expect(registry.snapshot().get(TYPE)?.origin.name).toBe('older');
    expect(registry.list()).toEqual([expect.objectContaining({ type: TYPE, source: expect.objectContaining({ name: 'older' }), conflicts: ['platform/newer'] })]);
    expect(await eventCount(metrics, 'duplicate')).toBe(1);

    source.del(older);
    expect(registry.snapshot().get(TYPE)?.origin.name).toBe('newer');
    expect(registry.list()[0]).not.toHaveProperty('conflicts');
    expect(await eventCount(metrics, 'deleted')).toBe(1);

    source.del(newer);
    expect(registry.snapshot().get(TYPE)).toBeUndefined();
    expect(registry.list()).toEqual([]);
  });

  it('breaks creationTimestamp ties by namespace/name', () => {
    source.put(schemaCm('b', { namespace: 'platform' }));
    source.put(schemaCm('a', { namespace: 'platform' }));
    expect(registry.snapshot().get(TYPE)?.origin.name).toBe('a');
  });

  it('a broken claimant never shadows a working one', () => {
    source.put(schemaCm('older-broken', { created: '2024-01-01T00:00:00Z', schemaText: 'nope' }));
    source.put(schemaCm('newer-good', { created: '2025-01-01T00:00:00Z' }));
    expect(registry.snapshot().get(TYPE)?.origin.name).toBe('newer-good');
  });

  it('prefers a cluster ConfigMap over a file without creationTimestamp', async () => {
    const files = new ManualSource('files');
    const r = new ExtensionSchemaRegistry({ logger: pino({ level: 'silent' }) });
    await r.start([files, source]);
    const fileCm: ConfigMapObject = { metadata: { name: 'tool-filter' }, data: { type: TYPE, 'schema.json': '{}' } };
    files.emit({ type: 'added', key: 'x.yaml#tool-filter', configMap: fileCm, origin: { kind: 'file', path: '/schemas/x.yaml', trusted: true } });
    expect(r.snapshot().get(TYPE)?.origin).toMatchObject({ kind: 'file', path: '/schemas/x.yaml' });
    source.put(schemaCm('cluster'));
    expect(r.snapshot().get(TYPE)?.origin).toMatchObject({ kind: 'configmap', name: 'cluster' });
  });

  it('moves a ConfigMap to its new type when data.type changes', () => {
    source.put(schemaCm('cm', { type: 'example.com/A' }));
    source.put(schemaCm('cm', { rv: '2', type: 'example.com/B' }), true, 'updated');
    expect(registry.snapshot().get('example.com/A')).toBeUndefined();
    expect(registry.snapshot().get('example.com/B')).toBeDefined();
  });

  it('snapshots are immutable: a request keeps its view while the registry changes', () => {
    source.put(schemaCm('tool-filter'));
    const before = registry.snapshot();
    source.put(schemaCm('tool-filter', { rv: '2', schema: { type: 'object', required: ['b'] } }), true, 'updated');
    source.put(schemaCm('other', { type: 'example.com/Other' }));
    expect(before.get(TYPE)?.origin.resourceVersion).toBe('1');
    expect(before.get('example.com/Other')).toBeUndefined();
    const after = registry.snapshot();
    expect(after).not.toBe(before);
    expect(after.get(TYPE)?.origin.resourceVersion).toBe('2');
    source.del(schemaCm('tool-filter'));
    expect(after.get(TYPE)).toBeDefined();
    expect(registry.snapshot().get(TYPE)).toBeUndefined();
  });

  it('counts source errors and re-lists', async () => {
    source.put(schemaCm('tool-filter'));
    source.emit({ type: 'error', error: { code: 'WatchFailed', message: 'connection reset' }, namespace: 'platform', retryInMs: 1000 });
    source.emit({ type: 'relisted', namespace: 'platform' });
    expect(await eventCount(metrics, 'watch_error')).toBe(1);
    expect(await eventCount(metrics, 'relisted')).toBe(1);
    expect(registry.snapshot().get(TYPE)).toBeDefined();
  });

  it('reports a cluster watch failing without a successful re-list as stale since its first failure', async () => {
    let now = 1_700_000_000_000;
    const m = new Metrics();
    const r = new ExtensionSchemaRegistry({ logger: pino({ level: 'silent' }), metrics: m, now: () => now });
    const cluster = new ManualSource('kubernetes');
    const files = new ManualSource('files');
    await r.start([cluster, files]);
    const stale = async (): Promise<number | undefined> => (await m.registryStaleSince.get()).values.find((v) => v.labels.registry === 'extension-schemas')?.value;
    expect(await stale()).toBe(0);
    const fail = (namespace: string, code: 'WatchFailed' | 'ListFailed' | 'Gone' = 'WatchFailed') =>
      cluster.emit({ type: 'error', error: { code, message: 'connection reset' }, namespace, retryInMs: 1000 });

    fail('platform');
    expect(await stale()).toBe(now / 1000);
    const first = now;
    now += 60_000;
    fail('platform'); // the retry fails again: still stale since the first failure
    fail('platform-2', 'ListFailed');
    expect(await stale()).toBe(first / 1000);
    cluster.emit({ type: 'relisted', namespace: 'platform' });
    expect(await stale()).toBe(now / 1000); // platform-2 is still failing, since its own first failure
    cluster.emit({ type: 'relisted', namespace: 'platform-2' });
    expect(await stale()).toBe(0);

    // A broken file is not a stale watch: its last good content serves until the next edit.
    files.emit({ type: 'error', error: { code: 'ParseFailed', message: 'bad YAML', path: '/x.yaml' } });
    expect(await stale()).toBe(0);
    // The first full listing of every namespace clears whatever failed before it.
    fail('platform', 'Gone');
    expect(await stale()).toBeGreaterThan(0);
    cluster.emit({ type: 'synced' });
    expect(await stale()).toBe(0);
  });

  it('counts the ConfigMaps whose newest version is rejected, until they are fixed or deleted', async () => {
    const rejected = async (): Promise<number | undefined> => (await metrics.registryRejectedEntries.get()).values.find((v) => v.labels.registry === 'extension-schemas')?.value;
    expect(await rejected()).toBe(0);
    source.put(schemaCm('tool-filter'));
    source.put(schemaCm('broken', { type: 'example.com/Broken', schemaText: '{not json' }));
    expect(await rejected()).toBe(1);
    // A broken update of a good ConfigMap: the last good version serves, and the entry counts as rejected.
    source.put(schemaCm('tool-filter', { rv: '2', schemaText: '{"type": 7}' }), true, 'updated');
    expect(registry.snapshot().get(TYPE)?.origin.resourceVersion).toBe('1');
    expect(await rejected()).toBe(2);
    source.put(schemaCm('tool-filter', { rv: '3', schemaText: '{"type": 8}' }), true, 'updated'); // still broken: not twice
    expect(await rejected()).toBe(2);
    source.put(schemaCm('tool-filter', { rv: '4' }), true, 'updated');
    expect(await rejected()).toBe(1);
    source.del(schemaCm('broken', { type: 'example.com/Broken' }));
    expect(await rejected()).toBe(0);
  });
});
