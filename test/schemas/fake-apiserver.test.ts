/** The fake API server's non-watch verbs, through client-node's typed clients (used by CA-injection tests too). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CONFIGMAPS, FakeApiServer, VALIDATING_WEBHOOKS } from '../support/fake-apiserver.js';

describe('FakeApiServer', () => {
  let server: FakeApiServer;
  let dir: string;
  let k8s: typeof import('@kubernetes/client-node');
  let kc: import('@kubernetes/client-node').KubeConfig;

  beforeEach(async () => {
    k8s = await import('@kubernetes/client-node');
    server = await FakeApiServer.start();
    dir = mkdtempSync(path.join(tmpdir(), 'fake-api-'));
    kc = new k8s.KubeConfig();
    kc.loadFromFile(server.writeKubeconfig(dir));
  });
  afterEach(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves cluster-scoped objects: get, JSON patch, merge patch, replace with conflict detection', async () => {
    server.create(VALIDATING_WEBHOOKS, {
      metadata: { name: 'backend-webhook' },
      webhooks: [{ name: 'validate.backends', clientConfig: { service: { name: 'svc', namespace: 'ns' } } }],
    });
    const api = kc.makeApiClient(k8s.AdmissionregistrationV1Api);
    const got = await api.readValidatingWebhookConfiguration({ name: 'backend-webhook' });
    expect(got.webhooks?.[0]?.clientConfig.caBundle).toBeUndefined();
    const rv0 = got.metadata?.resourceVersion;

    const patched = await api.patchValidatingWebhookConfiguration(
      { name: 'backend-webhook', body: [{ op: 'add', path: '/webhooks/0/clientConfig/caBundle', value: 'Q0E=' }] },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch),
    );
    expect(patched.webhooks?.[0]?.clientConfig.caBundle).toBe('Q0E=');
    expect(Number(patched.metadata?.resourceVersion)).toBeGreaterThan(Number(rv0));

    const merged = await api.patchValidatingWebhookConfiguration(
      { name: 'backend-webhook', body: { metadata: { labels: { a: 'b' } } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    expect(merged.metadata?.labels).toEqual({ a: 'b' });
    expect(merged.webhooks?.[0]?.clientConfig.caBundle).toBe('Q0E=');

    // A replace carrying a stale resourceVersion is refused, as the real server does.
    await expect(api.replaceValidatingWebhookConfiguration({ name: 'backend-webhook', body: got })).rejects.toMatchObject({ code: 409 });
    const fresh = await api.readValidatingWebhookConfiguration({ name: 'backend-webhook' });
    fresh.webhooks![0]!.clientConfig.caBundle = 'TkVX';
    const replaced = await api.replaceValidatingWebhookConfiguration({ name: 'backend-webhook', body: fresh });
    expect(replaced.webhooks?.[0]?.clientConfig.caBundle).toBe('TkVX');
    const stored = server.get(VALIDATING_WEBHOOKS, undefined, 'backend-webhook') as unknown as { webhooks: Array<{ clientConfig: { caBundle?: string } }> };
    expect(stored.webhooks[0]?.clientConfig.caBundle).toBe('TkVX');

    await expect(api.readValidatingWebhookConfiguration({ name: 'missing' })).rejects.toMatchObject({ code: 404 });
  });

  it('lists namespaced objects with label selectors and creates/deletes through the API', async () => {
    const api = kc.makeApiClient(k8s.CoreV1Api);
    await api.createNamespacedConfigMap({ namespace: 'ns', body: { metadata: { name: 'a', labels: { x: '1' } }, data: { k: 'v' } } });
    await api.createNamespacedConfigMap({ namespace: 'ns', body: { metadata: { name: 'b', labels: { x: '2' } } } });
    server.create(CONFIGMAPS, { metadata: { name: 'c', namespace: 'other', labels: { x: '1' } } });
    const list = await api.listNamespacedConfigMap({ namespace: 'ns', labelSelector: 'x=1' });
    expect(list.items.map((i) => i.metadata?.name)).toEqual(['a']);
    expect(list.metadata?.resourceVersion).toBe(server.resourceVersion);
    const all = await api.listConfigMapForAllNamespaces({ labelSelector: 'x in (1)' });
    expect(all.items.map((i) => `${i.metadata?.namespace}/${i.metadata?.name}`).sort()).toEqual(['ns/a', 'other/c']);
    await api.deleteNamespacedConfigMap({ namespace: 'ns', name: 'a' });
    expect(server.list(CONFIGMAPS, 'ns').map((o) => o.metadata.name)).toEqual(['b']);
  });
});
