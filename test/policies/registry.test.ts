import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { stringify } from 'yaml';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Metrics } from '../../src/observability/metrics.js';
import { POLICY_SELECTOR, type PolicyDocument } from '../../src/policies/format.js';
import { KubeNamespaceCache } from '../../src/policies/namespaces.js';
import { PolicyRegistry } from '../../src/policies/registry.js';
import { startPolicies, type PolicyRuntime } from '../../src/policies/startup.js';
import { KubeConfigMapSource } from '../../src/schemas/kube-source.js';
import type { ConfigMapObject } from '../../src/schemas/source.js';
import { CONFIGMAPS, FakeApiServer, type ResourceType } from '../support/fake-apiserver.js';
import { policyCm, until } from './support.js';

const silent = pino({ level: 'silent' });
const NAMESPACES: ResourceType = { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false };

const allowPorts = (...p: number[]): PolicyDocument => ({ match: { hosts: ['api.openai.com'] }, overrides: { allowedPorts: { ports: p } } });

/** The ports allowed by the policy `ref` in force, to tell versions apart. */
const servedPorts = (registry: PolicyRegistry, ref: string): number[] | undefined =>
  registry.snapshot().policies.find((p) => p.ref === ref)?.document.overrides?.allowedPorts?.ports;

async function eventCount(metrics: Metrics, event: string): Promise<number> {
  const data = await metrics.registryEvents.get();
  return data.values.find((v) => v.labels.event === event && v.labels.registry === 'backend-policies')?.value ?? 0;
}

const event = (type: 'added' | 'updated' | 'deleted', cm: ConfigMapObject, trusted = true) => ({
  type,
  key: `${cm.metadata.namespace}/${cm.metadata.name}`,
  configMap: cm,
  origin: { kind: 'configmap' as const, trusted },
});

describe('PolicyRegistry', () => {
  let metrics: Metrics;
  let registry: PolicyRegistry;
  beforeEach(() => {
    metrics = new Metrics();
    registry = new PolicyRegistry({ logger: silent, metrics });
  });

  it('loads, replaces and deletes; a broken version never replaces the good one', async () => {
    registry.handle('k', event('added', policyCm('p', allowPorts(443), { resourceVersion: '1' })));
    const first = registry.snapshot();
    expect(servedPorts(registry, 'platform/p')).toEqual([443]);
    registry.handle('k', event('updated', policyCm('p', 'overrides: {allowedPorts: {ports: [0]}}', { resourceVersion: '2' })));
    expect(servedPorts(registry, 'platform/p')).toEqual([443]);
    const row = registry.report().policies[0]!;
    expect(row).toMatchObject({ ref: 'platform/p', loaded: true, resourceVersion: '1', overrides: ['allowedPorts'], match: { patterns: ['api.openai.com'] } });
    expect(row.error).toMatch(/^resourceVersion 2: data\[policy\.yaml\]\/overrides\/allowedPorts\/ports\/0/);
    registry.handle('k', event('updated', policyCm('p', allowPorts(443, 8443), { resourceVersion: '3' })));
    expect(servedPorts(registry, 'platform/p')).toEqual([443, 8443]);
    expect(registry.report().policies[0]!.error).toBeUndefined();
    // Snapshots are copy-on-write: the one taken earlier still shows the first version.
    expect(first.policies[0]!.document.overrides?.allowedPorts?.ports).toEqual([443]);
    registry.handle('k', event('deleted', policyCm('p', allowPorts(443, 8443), { resourceVersion: '3' })));
    expect(registry.snapshot().size).toBe(0);
    expect([await eventCount(metrics, 'loaded'), await eventCount(metrics, 'rejected'), await eventCount(metrics, 'replaced'), await eventCount(metrics, 'deleted')]).toEqual([1, 1, 1, 1]);
  });

  it('a policy that never parsed is listed with its error and enforces nothing', () => {
    registry.handle('k', event('added', policyCm('broken', 'match: [', { resourceVersion: '1' })));
    expect(registry.snapshot().size).toBe(0);
    expect(registry.report().policies).toEqual([expect.objectContaining({ ref: 'platform/broken', loaded: false, error: expect.stringContaining('not valid YAML') })]);
  });

  it('ignores (and counts once) policies from untrusted namespaces', async () => {
    const cm = policyCm('sneaky', { overrides: { allowedTlsModes: { modes: ['None'] } } }, { namespace: 'team-a', resourceVersion: '1' });
    registry.handle('k', event('added', cm, false));
    registry.handle('k', event('added', cm, false));
    expect(registry.snapshot().size).toBe(0);
    expect(registry.report().policies).toEqual([]);
    expect(await eventCount(metrics, 'ignored_untrusted')).toBe(1);
  });

  it('one name from two sources: the older serves, the other is a duplicate', async () => {
    registry.handle('files', event('added', policyCm('p', allowPorts(1), { created: '2026-01-02T00:00:00Z' })));
    registry.handle('cluster', event('added', policyCm('p', allowPorts(2), { created: '2026-01-01T00:00:00Z', resourceVersion: '5' })));
    expect(registry.snapshot().size).toBe(1);
    expect(servedPorts(registry, 'platform/p')).toEqual([2]);
    expect(registry.report().policies.filter((r) => r.duplicateOf)).toHaveLength(1);
    expect(await eventCount(metrics, 'duplicate')).toBe(1);
  });

  it('reports conflicts between policies', () => {
    registry.handle('k', event('added', policyCm('a', allowPorts(443))));
    registry.handle('k', event('added', policyCm('b', allowPorts(8443))));
    expect(registry.report().conflicts).toEqual([{ key: 'overrides.allowedPorts', patterns: ['api.openai.com'], policies: ['platform/a', 'platform/b'], winner: 'platform/a' }]);
  });
});

describe('policies from files (--policy-dir), watched', () => {
  let dir: string;
  let runtime: PolicyRuntime | undefined;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'policies-'));
  });
  afterEach(async () => {
    await runtime?.stop();
    runtime = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('reloads on change without restart, keeps the last good on a broken file, drops a removed one', async () => {
    const file = path.join(dir, 'openai.yaml');
    writeFileSync(file, stringify(policyCm('openai', allowPorts(443))));
    writeFileSync(path.join(dir, 'not-a-policy.yaml'), stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, data: { a: 'b' } }));
    const metrics = new Metrics();
    runtime = await startPolicies({ schemaSource: 'files', policyDir: dir, trustedNamespaces: [] }, silent, metrics);
    expect(runtime.isReady()).toBe(true);
    expect(runtime.registry.snapshot().size).toBe(1); // the unlabelled ConfigMap is not a policy
    expect(servedPorts(runtime.registry, 'platform/openai')).toEqual([443]);

    writeFileSync(file, stringify(policyCm('openai', allowPorts(443, 8443))));
    await until(() => servedPorts(runtime!.registry, 'platform/openai')?.length === 2, 'the edited policy to load');

    writeFileSync(file, stringify(policyCm('openai', 'overrides: {allowedPorts: {ports: []}}')));
    await until(() => runtime!.registry.report().policies[0]?.error !== undefined, 'the broken version to be rejected');
    expect(servedPorts(runtime.registry, 'platform/openai')).toEqual([443, 8443]);

    // An unparseable file: the source reports it (counted as a watch_error) and the previous content stays.
    const sourceErrors = async (): Promise<number> =>
      (await metrics.registryEvents.get()).values.find((v) => v.labels.registry === 'backend-policies' && v.labels.event === 'watch_error')?.value ?? 0;
    const errorsBefore = await sourceErrors();
    writeFileSync(file, 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [\n');
    await until(async () => (await sourceErrors()) > errorsBefore, 'the unparseable file to be read and reported');
    expect(servedPorts(runtime.registry, 'platform/openai')).toEqual([443, 8443]);

    rmSync(file);
    await until(() => runtime!.registry.snapshot().size === 0, 'the removed policy to go');
  });

  it('without --policy-dir in files mode: no policies, ready at once', async () => {
    runtime = await startPolicies({ schemaSource: 'files', trustedNamespaces: [] }, silent, new Metrics());
    expect(runtime.isReady()).toBe(true);
    expect(runtime.registry.snapshot().size).toBe(0);
  });
});

describe('policies and namespace labels from the cluster (fake API server through client-node)', () => {
  let server: FakeApiServer;
  let dir: string;
  let kubeconfig: string;
  let runtime: PolicyRuntime | undefined;

  beforeAll(async () => {
    await import('@kubernetes/client-node');
  });
  beforeEach(async () => {
    server = await FakeApiServer.start([CONFIGMAPS, NAMESPACES]);
    dir = mkdtempSync(path.join(tmpdir(), 'kube-policies-'));
    kubeconfig = server.writeKubeconfig(dir);
  });
  afterEach(async () => {
    await runtime?.stop();
    runtime = undefined;
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads from trusted namespaces only, reloads on watch events, keeps the last good, and tracks namespace labels', async () => {
    server.create(NAMESPACES, { metadata: { name: 'team-a', labels: { egress: 'restricted' } } });
    server.create(CONFIGMAPS, policyCm('openai', allowPorts(443)));
    server.create(CONFIGMAPS, policyCm('elsewhere', allowPorts(1), { namespace: 'team-a' }));
    runtime = await startPolicies({ schemaSource: 'kubernetes', trustedNamespaces: ['platform'], kubeconfig }, silent, new Metrics());
    await until(() => runtime!.isReady(), 'policies and namespaces to sync');
    expect(runtime.registry.snapshot().policies.map((p) => p.ref)).toEqual(['platform/openai']);
    expect(runtime.namespaces.labelsOf('team-a')).toEqual({ egress: 'restricted' });

    server.update(CONFIGMAPS, policyCm('openai', allowPorts(443, 8443)));
    await until(() => servedPorts(runtime!.registry, 'platform/openai')?.length === 2, 'MODIFIED to apply');
    server.update(CONFIGMAPS, policyCm('openai', 'match: {hosts: ["*"]}'));
    await until(() => runtime!.registry.report().policies[0]?.error !== undefined, 'the broken update to be rejected');
    expect(servedPorts(runtime.registry, 'platform/openai')).toEqual([443, 8443]);

    server.update(NAMESPACES, { metadata: { name: 'team-a', labels: { egress: 'open' } } });
    server.create(NAMESPACES, { metadata: { name: 'team-b' } });
    await until(() => runtime!.namespaces.labelsOf('team-a')?.egress === 'open' && runtime!.namespaces.labelsOf('team-b') !== undefined, 'namespace watch events');
    server.delete(NAMESPACES, undefined, 'team-b');
    await until(() => runtime!.namespaces.labelsOf('team-b') === undefined, 'namespace deletion');

    server.delete(CONFIGMAPS, 'platform', 'openai');
    await until(() => runtime!.registry.snapshot().size === 0, 'DELETED to apply');
  });

  it('a cluster-wide source sees untrusted policy ConfigMaps and ignores them', async () => {
    server.create(CONFIGMAPS, policyCm('sneaky', allowPorts(1), { namespace: 'team-a' }));
    server.create(CONFIGMAPS, policyCm('good', allowPorts(443)));
    const metrics = new Metrics();
    const registry = new PolicyRegistry({ logger: silent, metrics });
    const source = new KubeConfigMapSource({ labelSelector: POLICY_SELECTOR, trustedNamespaces: ['platform'], watchScope: 'cluster', kubeconfigPath: kubeconfig });
    await registry.start([source]);
    try {
      await until(() => registry.isReady(), 'sync');
      expect(registry.snapshot().policies.map((p) => p.ref)).toEqual(['platform/good']);
      expect(await eventCount(metrics, 'ignored_untrusted')).toBe(1);
      expect(registry.isTrustedNamespace('team-a')).toBe(false);
    } finally {
      await registry.stop();
    }
  });

  it('the namespace cache catches a silently dead watch with its periodic resync', async () => {
    server.create(NAMESPACES, { metadata: { name: 'a', labels: { x: '1' } } });
    const cache = new KubeNamespaceCache({ logger: silent, kubeconfigPath: kubeconfig, backoff: { initialMs: 20, maxMs: 200 }, resyncIntervalMs: 400 });
    await cache.start();
    try {
      await until(() => cache.hasSynced(), 'namespace list');
      await until(() => server.openWatchCount >= 1, 'the watch to open');
      server.silenceWatches();
      server.create(NAMESPACES, { metadata: { name: 'c', labels: { z: '3' } } });
      await until(() => cache.labelsOf('c')?.z === '3', 'the resync to list the new namespace');
      expect(cache.labelsOf('a')).toEqual({ x: '1' });
    } finally {
      await cache.stop();
    }
  });

  it('the namespace cache recovers from a dropped watch with a fresh list', async () => {
    server.create(NAMESPACES, { metadata: { name: 'a', labels: { x: '1' } } });
    const cache = new KubeNamespaceCache({ logger: silent, kubeconfigPath: kubeconfig, backoff: { initialMs: 20, maxMs: 200 } });
    await cache.start();
    try {
      await until(() => cache.hasSynced(), 'namespace list');
      server.dropWatches();
      server.create(NAMESPACES, { metadata: { name: 'b', labels: { y: '2' } } });
      await until(() => cache.labelsOf('b')?.y === '2', 'the namespace created meanwhile');
      expect(cache.labelsOf('a')).toEqual({ x: '1' });
    } finally {
      await cache.stop();
    }
  });
});
