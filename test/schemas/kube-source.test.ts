import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Metrics } from '../../src/observability/metrics.js';
import { EXTENSION_SCHEMA_LABEL, EXTENSION_SCHEMA_SELECTOR } from '../../src/schemas/configmap.js';
import { ExtensionSchemaRegistry } from '../../src/schemas/extension-registry.js';
import { backoffDelay, DEFAULT_BACKOFF, KubeConfigMapSource, KubeSourceError, resolveTrustedNamespaces } from '../../src/schemas/kube-source.js';
import type { ConfigMapSourceEvent } from '../../src/schemas/source.js';
import { CONFIGMAPS, FakeApiServer, type KubeObject } from '../support/fake-apiserver.js';

const TYPE = 'example.com/ToolFilter';
const FAST_BACKOFF = { initialMs: 20, maxMs: 200, resetAfterMs: 60_000 };

function schemaCm(name: string, opts: { namespace?: string; required?: string; type?: string; created?: string; labelled?: boolean; schemaText?: string } = {}): KubeObject {
  return {
    metadata: {
      name,
      namespace: opts.namespace ?? 'platform',
      ...(opts.created ? { creationTimestamp: opts.created } : {}),
      labels: opts.labelled === false ? {} : { [EXTENSION_SCHEMA_LABEL]: 'true' },
    },
    data: { type: opts.type ?? TYPE, 'schema.json': opts.schemaText ?? JSON.stringify({ type: 'object', required: [opts.required ?? 'a'] }) },
  };
}

async function until(cond: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function untilAsync(cond: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function eventCount(metrics: Metrics, event: string): Promise<number> {
  const data = await metrics.registryEvents.get();
  return data.values.find((v) => v.labels.event === event)?.value ?? 0;
}

async function staleSince(metrics: Metrics): Promise<number | undefined> {
  return (await metrics.registryStaleSince.get()).values.find((v) => v.labels.registry === 'extension-schemas')?.value;
}

/** Which `required` property the served schema for TYPE demands: a way to tell versions apart. */
function servedRequirement(registry: ExtensionSchemaRegistry): string | undefined {
  const schema = registry.snapshot().get(TYPE);
  if (!schema) return undefined;
  for (const candidate of ['a', 'b', 'c']) if (schema.validate({ [candidate]: 1 })) return candidate;
  return '?';
}

describe('backoffDelay', () => {
  it('grows exponentially, is capped, and jitters downwards only', () => {
    const none = () => 0;
    expect([0, 1, 2, 3].map((a) => backoffDelay(a, DEFAULT_BACKOFF, none))).toEqual([500, 1000, 2000, 4000]);
    expect(backoffDelay(20, DEFAULT_BACKOFF, none)).toBe(30_000);
    expect(backoffDelay(1000, DEFAULT_BACKOFF, none)).toBe(30_000);
    expect(backoffDelay(20, DEFAULT_BACKOFF, () => 0.999999)).toBe(24_000);
  });
});

describe('resolveTrustedNamespaces', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'ns-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('uses the given namespaces, else the service-account namespace file', async () => {
    const file = path.join(dir, 'namespace');
    writeFileSync(file, 'backend-webhook-system\n');
    expect(await resolveTrustedNamespaces(['a', 'b', 'a'], file)).toEqual(['a', 'b']);
    expect(await resolveTrustedNamespaces([], file)).toEqual(['backend-webhook-system']);
    await expect(resolveTrustedNamespaces(undefined, path.join(dir, 'missing'))).rejects.toBeInstanceOf(KubeSourceError);
  });
});

describe('KubeConfigMapSource through @kubernetes/client-node against a fake API server', () => {
  let server: FakeApiServer;
  let dir: string;
  let kubeconfigPath: string;
  let metrics: Metrics;
  let registry: ExtensionSchemaRegistry;
  let source: KubeConfigMapSource;

  beforeAll(async () => {
    // Warm the lazy import once, so the first test does not pay for it inside its polling window.
    await import('@kubernetes/client-node');
  });

  beforeEach(async () => {
    server = await FakeApiServer.start();
    dir = mkdtempSync(path.join(tmpdir(), 'kube-'));
    kubeconfigPath = server.writeKubeconfig(dir);
    metrics = new Metrics();
    registry = new ExtensionSchemaRegistry({ logger: pino({ level: 'silent' }), metrics });
  });

  afterEach(async () => {
    await registry.stop();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const makeSource = (extra: Partial<ConstructorParameters<typeof KubeConfigMapSource>[0]> = {}) =>
    new KubeConfigMapSource({ labelSelector: EXTENSION_SCHEMA_SELECTOR, trustedNamespaces: ['platform'], kubeconfigPath, backoff: FAST_BACKOFF, ...extra });

  it('loads the first list, then applies add, update and delete from the watch', async () => {
    server.create(CONFIGMAPS, schemaCm('tool-filter'));
    server.create(CONFIGMAPS, schemaCm('unlabelled', { type: 'example.com/Other', labelled: false }));
    source = makeSource();
    await registry.start([source]);
    await source.whenSynced();
    expect(registry.isReady()).toBe(true);
    expect(servedRequirement(registry)).toBe('a');
    expect(registry.snapshot().get('example.com/Other')).toBeUndefined(); // label selector applied

    const other = server.create(CONFIGMAPS, schemaCm('other', { type: 'example.com/Other' }));
    await until(() => registry.snapshot().get('example.com/Other') !== undefined, 'ADDED to apply');
    expect(registry.snapshot().get('example.com/Other')!.origin.resourceVersion).toBe(other.metadata.resourceVersion);

    server.update(CONFIGMAPS, schemaCm('tool-filter', { required: 'b' }));
    await until(() => servedRequirement(registry) === 'b', 'MODIFIED to apply');

    server.delete(CONFIGMAPS, 'platform', 'tool-filter');
    await until(() => registry.snapshot().get(TYPE) === undefined, 'DELETED to apply');
    expect(await eventCount(metrics, 'loaded')).toBe(2);
    expect(await eventCount(metrics, 'replaced')).toBe(1);
    expect(await eventCount(metrics, 'deleted')).toBe(1);
  });

  it('keeps the last good schema when a broken update arrives', async () => {
    server.create(CONFIGMAPS, schemaCm('tool-filter'));
    source = makeSource();
    await registry.start([source]);
    await source.whenSynced();
    server.update(CONFIGMAPS, schemaCm('tool-filter', { schemaText: '{"type": "object", ' }));
    await until(() => registry.list()[0]?.error !== undefined, 'the rejection to be recorded');
    expect(servedRequirement(registry)).toBe('a');
  });

  it('ignores BOOKMARK events (no spurious changes) and keeps watching from their resourceVersion', async () => {
    server.create(CONFIGMAPS, schemaCm('tool-filter'));
    const events: ConfigMapSourceEvent[] = [];
    source = makeSource();
    await source.start((e) => events.push(e));
    await source.whenSynced();
    await until(() => server.openWatchCount === 1, 'the watch to open');
    events.length = 0;
    server.bookmark();
    server.create(CONFIGMAPS, schemaCm('after-bookmark', { type: 'example.com/Other' }));
    await until(() => events.length > 0, 'the next event');
    expect(events.map((e) => e.type)).toEqual(['added']);
    await source.stop();
  });

  it('is not synced (and the registry not ready) until the first list succeeds', async () => {
    server.create(CONFIGMAPS, schemaCm('tool-filter'));
    server.failRequests({ match: (r) => r.method === 'GET' && !r.watch, status: 503, times: 3 });
    source = makeSource();
    await registry.start([source]);
    expect(source.hasSynced()).toBe(false);
    await until(() => server.countRequests((r) => !r.watch) >= 2, 'a retried list');
    expect(source.hasSynced()).toBe(false);
    expect(registry.isReady()).toBe(false);
    await source.whenSynced();
    expect(registry.isReady()).toBe(true);
    expect(servedRequirement(registry)).toBe('a');
    expect(await eventCount(metrics, 'watch_error')).toBe(3);
  });

  it('waits for every trusted namespace before reporting synced', async () => {
    server.create(CONFIGMAPS, schemaCm('a', { namespace: 'platform' }));
    server.create(CONFIGMAPS, schemaCm('b', { namespace: 'platform-2', type: 'example.com/Other' }));
    server.failRequests({ match: (r) => !r.watch && r.path.includes('/platform-2/'), status: 500, times: 2 });
    source = makeSource({ trustedNamespaces: ['platform', 'platform-2'] });
    await registry.start([source]);
    await until(() => registry.snapshot().get(TYPE) !== undefined, 'the first namespace');
    expect(source.hasSynced()).toBe(false);
    await source.whenSynced();
    expect(registry.snapshot().get('example.com/Other')).toBeDefined();
  });

  it.each(['event', 'http'] as const)('re-lists after 410 Gone (as %s), picking up changes the watch missed', async (as) => {
    server.create(CONFIGMAPS, schemaCm('tool-filter'));
    server.create(CONFIGMAPS, schemaCm('doomed', { type: 'example.com/Other' }));
    source = makeSource();
    await registry.start([source]);
    await source.whenSynced();
    await until(() => server.openWatchCount === 1, 'the watch to open');
    const listsBefore = server.countRequests((r) => !r.watch);

    // The watch ends; its resume is answered 410; meanwhile objects changed without any watch open.
    server.expireNextWatches(as);
    server.closeWatches();
    server.delete(CONFIGMAPS, 'platform', 'doomed');
    server.update(CONFIGMAPS, schemaCm('tool-filter', { required: 'c' }));

    await until(() => servedRequirement(registry) === 'c' && registry.snapshot().get('example.com/Other') === undefined, 'the re-list to apply');
    expect(server.countRequests((r) => !r.watch)).toBeGreaterThan(listsBefore);
    expect(await eventCount(metrics, 'relisted')).toBeGreaterThanOrEqual(1);
  });

  it('re-lists when the server expires the open watch with an ERROR 410 event', async () => {
    server.create(CONFIGMAPS, schemaCm('tool-filter'));
    source = makeSource();
    await registry.start([source]);
    await source.whenSynced();
    await until(() => server.openWatchCount === 1, 'the watch to open');
    server.expireWatches();
    server.update(CONFIGMAPS, schemaCm('tool-filter', { required: 'b' }));
    await until(() => servedRequirement(registry) === 'b', 'the change after expiry');
    await untilAsync(async () => (await eventCount(metrics, 'relisted')) >= 1, 'the re-list');
  });

  it('after a dropped connection, retries with backoff while serving the cached schemas, then catches up', async () => {
    server.create(CONFIGMAPS, schemaCm('tool-filter'));
    server.create(CONFIGMAPS, schemaCm('doomed', { type: 'example.com/Other' }));
    source = makeSource();
    await registry.start([source]);
    await source.whenSynced();
    await until(() => server.openWatchCount === 1, 'the watch to open');

    expect(await staleSince(metrics)).toBe(0);
    const droppedAt = Date.now();
    server.failRequests({ status: 503 });
    server.dropWatches();
    await until(() => server.countRequests((r) => r.query.labelSelector !== undefined) >= 6, 'several retries');
    const errors = await eventCount(metrics, 'watch_error');
    expect(errors).toBeGreaterThanOrEqual(2);
    // Stale since the first failure (seconds since the epoch), and it stays that first failure.
    const since = await staleSince(metrics);
    expect(since).toBeGreaterThan(droppedAt / 1000 - 1);
    expect(since).toBeLessThanOrEqual(Date.now() / 1000);
    await until(() => server.countRequests((r) => r.query.labelSelector !== undefined) >= 7, 'another retry');
    expect(await staleSince(metrics)).toBe(since);
    // Nothing is lost while the API server is unreachable.
    expect(servedRequirement(registry)).toBe('a');
    expect(registry.snapshot().get('example.com/Other')).toBeDefined();
    expect(registry.isReady()).toBe(true);

    server.delete(CONFIGMAPS, 'platform', 'doomed');
    server.update(CONFIGMAPS, schemaCm('tool-filter', { required: 'b' }));
    server.clearFailures();
    await until(() => servedRequirement(registry) === 'b' && registry.snapshot().get('example.com/Other') === undefined, 'recovery');
    await untilAsync(async () => (await staleSince(metrics)) === 0, 'the re-list to clear the staleness');
    await until(() => server.openWatchCount === 1, 'the watch to reopen');
    server.create(CONFIGMAPS, schemaCm('late', { type: 'example.com/Late' }));
    await until(() => registry.snapshot().get('example.com/Late') !== undefined, 'the new watch to deliver');
  });

  it('with a cluster-wide watch, counts and ignores labelled ConfigMaps outside the trusted namespaces', async () => {
    server.create(CONFIGMAPS, schemaCm('evil', { namespace: 'tenant-a', required: 'c' }));
    server.create(CONFIGMAPS, schemaCm('good', { namespace: 'platform' }));
    source = makeSource({ watchScope: 'cluster' });
    await registry.start([source]);
    await source.whenSynced();
    expect(servedRequirement(registry)).toBe('a');
    expect(await eventCount(metrics, 'ignored_untrusted')).toBe(1);
    expect(registry.isTrustedNamespace('platform')).toBe(true);
    expect(registry.isTrustedNamespace('tenant-a')).toBe(false);
    server.create(CONFIGMAPS, schemaCm('evil-2', { namespace: 'tenant-b', type: 'example.com/Other' }));
    await untilAsync(async () => (await eventCount(metrics, 'ignored_untrusted')) >= 2, 'the second untrusted ConfigMap');
    expect(registry.snapshot().get('example.com/Other')).toBeUndefined();
  });

  it('a watch that died silently is caught by the periodic resync (a fresh list)', async () => {
    server.create(CONFIGMAPS, schemaCm('tool-filter'));
    source = makeSource({ resyncIntervalMs: 400 });
    await registry.start([source]);
    await source.whenSynced();
    await until(() => server.openWatchCount === 1, 'the watch to open');
    // The connection stays up but delivers nothing: no error, no close, nothing for the informer to notice.
    server.silenceWatches();
    server.create(CONFIGMAPS, schemaCm('other', { type: 'example.com/Other' }));
    await until(() => registry.snapshot().get('example.com/Other') !== undefined, 'the resync to list the new ConfigMap');
    expect(servedRequirement(registry)).toBe('a'); // the cached schema was served throughout
  });

  it('without a resync, a silently dead watch would never see the change (why the resync exists)', async () => {
    server.create(CONFIGMAPS, schemaCm('tool-filter'));
    source = makeSource({ resyncIntervalMs: 0 });
    await registry.start([source]);
    await source.whenSynced();
    await until(() => server.openWatchCount === 1, 'the watch to open');
    server.silenceWatches();
    server.create(CONFIGMAPS, schemaCm('other', { type: 'example.com/Other' }));
    await new Promise((r) => setTimeout(r, 1000));
    expect(registry.snapshot().get('example.com/Other')).toBeUndefined();
  });

  it('stop() closes the watch and delivers nothing more', async () => {
    const events: ConfigMapSourceEvent[] = [];
    source = makeSource();
    await source.start((e) => events.push(e));
    await source.whenSynced();
    await until(() => server.openWatchCount === 1, 'the watch to open');
    await source.stop();
    await until(() => server.openWatchCount === 0, 'the watch to close');
    const seen = events.length;
    server.create(CONFIGMAPS, schemaCm('x'));
    await new Promise((r) => setTimeout(r, 100));
    expect(events.length).toBe(seen);
  });
});
