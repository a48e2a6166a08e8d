/**
 * Cross-namespace references through the HTTPS admission server (issue 12.4): the live grant lookup
 * (an informer on the fake API server) decides each request; `deny` and `allow` ignore grants.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_VALIDATION_OPTIONS } from '../../src/backend/options.js';
import { KubeReferenceGrantCache } from '../../src/references/kube-grants.js';
import { FakeApiServer, type ResourceType } from '../support/fake-apiserver.js';
import { backend, review } from '../support/reviews.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { until } from '../policies/support.js';

const GRANTS: ResourceType = { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'referencegrants', kind: 'ReferenceGrant', namespaced: true };
const mutualBackend = () =>
  backend({
    destination: {
      type: 'Fqdn',
      fqdn: { hostname: 'api.example.com' },
      ports: [{ number: 443, protocol: 'HTTP', tls: { mode: 'Mutual', sni: 'api.example.com', clientCertificateRef: { name: 'client-cert', namespace: 'certs' } } }],
    },
  });

describe('through the HTTPS server', () => {
  let api: FakeApiServer;
  let dir: string;
  let cache: KubeReferenceGrantCache;
  let servers: TestServer[];

  beforeAll(async () => {
    api = await FakeApiServer.start([GRANTS]);
    dir = mkdtempSync(join(tmpdir(), 'grants-srv-'));
    cache = new KubeReferenceGrantCache({ logger: pino({ level: 'silent' }), kubeconfigPath: api.writeKubeconfig(dir) });
    await cache.start();
    await until(() => cache.hasSynced(), 'grants synced');
    servers = await Promise.all(
      (['reference-grant', 'deny', 'allow'] as const).map((crossNamespaceRefs) =>
        startTestServer({ validation: { ...DEFAULT_VALIDATION_OPTIONS, crossNamespaceRefs, referenceGrants: cache } }),
      ),
    );
  });
  afterAll(async () => {
    await Promise.all((servers ?? []).map((s) => s.close()));
    await cache?.stop();
    await api?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const verdict = async (server: TestServer) => (await server.client.postJson('/validate?timeout=10s', review(mutualBackend()))).json.response;

  it('refused without a grant, allowed once one appears, refused again once it is deleted', async () => {
    const [withGrants] = servers;
    const denied = await verdict(withGrants!);
    expect(denied.allowed).toBe(false);
    expect(denied.status.details.causes).toEqual([
      {
        reason: 'FieldValueForbidden',
        field: 'spec.destination.ports[0].tls.clientCertificateRef.namespace',
        message: expect.stringMatching(/^Forbidden: a Secret in another namespace needs a ReferenceGrant in certs from Backend .* in team-a to Secret "client-cert"/),
      },
    ]);

    api.create(GRANTS, {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'ReferenceGrant',
      metadata: { name: 'team-a-backends', namespace: 'certs' },
      spec: { from: [{ group: 'ainetworking.prototype.x-k8s.io', kind: 'Backend', namespace: 'team-a' }], to: [{ group: '', kind: 'Secret' }] },
    });
    await until(async () => (await verdict(withGrants!)).allowed === true, 'the grant to allow the Backend');
    // deny ignores the grant that is in force now.
    const denied2 = await verdict(servers[1]!);
    expect(denied2.allowed).toBe(false);
    expect(denied2.status.details.causes[0].message).toMatch(/must be the Backend's own namespace \(team-a\)/);
    // The same grant does not cover another kind.
    const x = await withGrants!.client.postJson('/validate?timeout=10s', review({ ...mutualBackend(), kind: 'XBackendDestination' }, { kind: 'XBackendDestination' }));
    expect(x.json.response.allowed).toBe(false);

    api.delete(GRANTS, 'certs', 'team-a-backends');
    await until(async () => (await verdict(withGrants!)).allowed === false, 'the deleted grant to stop allowing');
  });

  it('allow needs no grant', async () => {
    expect((await verdict(servers[2]!)).allowed).toBe(true);
  });
});
