/**
 * ReferenceGrants from the cluster (issue 12.4), against the fake API server: a grant that appears
 * allows, a deleted one no longer does, and without the CRD nothing is granted (logged once) until
 * the CRD is installed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KubeReferenceGrantCache } from '../../src/references/kube-grants.js';
import { FakeApiServer, type ResourceType } from '../support/fake-apiserver.js';
import { until } from '../policies/support.js';

const grantsV1: ResourceType = { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'referencegrants', kind: 'ReferenceGrant', namespaced: true };
const grantsV1beta1: ResourceType = { ...grantsV1, version: 'v1beta1' };

const FROM = { group: 'ainetworking.prototype.x-k8s.io', kind: 'Backend', namespace: 'team-a' };
const TO = { group: '', kind: 'Secret', name: 'client-cert', namespace: 'certs' };
const grant = (name = 'team-a-client-cert') => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'ReferenceGrant',
  metadata: { name, namespace: 'certs' },
  spec: { from: [{ group: FROM.group, kind: 'Backend', namespace: 'team-a' }], to: [{ group: '', kind: 'Secret', name: 'client-cert' }] },
});

function memoryLogger(): { logger: pino.Logger; lines: any[] } {
  const lines: any[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

describe('KubeReferenceGrantCache', () => {
  let server: FakeApiServer;
  let dir: string;
  let kubeconfig: string;
  let cache: KubeReferenceGrantCache | undefined;

  beforeEach(async () => {
    server = await FakeApiServer.start([]);
    dir = mkdtempSync(join(tmpdir(), 'grants-'));
    kubeconfig = server.writeKubeconfig(dir);
  });
  afterEach(async () => {
    await cache?.stop();
    cache = undefined;
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a grant that appears allows the reference; once deleted it no longer does', async () => {
    server.addResource(grantsV1);
    cache = new KubeReferenceGrantCache({ logger: pino({ level: 'silent' }), kubeconfigPath: kubeconfig, backoff: { initialMs: 20, maxMs: 200 } });
    await cache.start();
    await until(() => cache!.hasSynced(), 'the first list');
    expect(cache.allows(FROM, TO)).toBe(false);
    await until(() => server.openWatchCount >= 1, 'the watch to open');

    server.create(grantsV1, grant());
    await until(() => cache!.allows(FROM, TO), 'the new grant to allow');
    expect(cache.allows({ ...FROM, namespace: 'team-b' }, TO)).toBe(false);
    expect(cache.allows(FROM, { ...TO, name: 'other' })).toBe(false);

    server.delete(grantsV1, 'certs', 'team-a-client-cert');
    await until(() => !cache!.allows(FROM, TO), 'the deleted grant to stop allowing');
  });

  it('watches v1beta1 where v1 is not served', async () => {
    server.addResource(grantsV1beta1);
    server.create(grantsV1beta1, { ...grant(), apiVersion: 'gateway.networking.k8s.io/v1beta1' });
    cache = new KubeReferenceGrantCache({ logger: pino({ level: 'silent' }), kubeconfigPath: kubeconfig });
    await cache.start();
    await until(() => cache!.allows(FROM, TO), 'the listed v1beta1 grant');
  });

  it('without the CRD nothing is granted, the log says so once, and the CRD is found when installed later', async () => {
    const { logger, lines } = memoryLogger();
    cache = new KubeReferenceGrantCache({ logger, kubeconfigPath: kubeconfig, crdRetryMs: 50, backoff: { initialMs: 20, maxMs: 200 } });
    await cache.start();
    await until(() => cache!.hasSynced(), 'synced (nothing to wait for)');
    expect(cache.allows(FROM, TO)).toBe(false);
    // Several rediscovery rounds pass...
    await until(() => server.countRequests((r) => r.path.endsWith('/referencegrants')) >= 8, 'rediscovery attempts');
    const missing = lines.filter((l) => /ReferenceGrant CRD is not installed/.test(l.msg));
    expect(missing).toHaveLength(1);
    expect(missing[0]).toMatchObject({ level: 40, crd: 'referencegrants.gateway.networking.k8s.io' });

    // ...and the CRD appears, with a grant in it.
    server.addResource(grantsV1);
    server.create(grantsV1, grant());
    await until(() => cache!.allows(FROM, TO), 'the grant, once the CRD exists');
    expect(lines.some((l) => /CRD is installed now/.test(l.msg))).toBe(true);

    // Deleting the CRD takes the grants with it.
    server.removeResource(grantsV1);
    await until(() => !cache!.allows(FROM, TO), 'nothing granted after the CRD is gone');
  });
});
