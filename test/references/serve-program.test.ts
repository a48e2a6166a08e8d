/**
 * The shipped program in the cluster mode (`--schema-source kubernetes`) against the fake API server
 * without the ReferenceGrant CRD (issue 12.4): it becomes ready, says once that nothing is granted,
 * and refuses a cross-namespace Secret reference.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, freePort, startProgram, type RunningProgram } from '../support/built-program.js';
import { CONFIGMAPS, FakeApiServer, type ResourceType } from '../support/fake-apiserver.js';
import { HttpsClient } from '../support/https-client.js';
import { backend, review } from '../support/reviews.js';
import { until } from '../policies/support.js';

const NAMESPACES: ResourceType = { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false };

function readyz(port: number): Promise<number> {
  return new Promise((resolve) => {
    httpRequest({ host: '127.0.0.1', port, path: '/readyz' }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    })
      .on('error', () => resolve(0))
      .end();
  });
}

describe('serve in the cluster without the ReferenceGrant CRD', () => {
  let api: FakeApiServer;
  let dir: string;
  let program: RunningProgram;
  let client: HttpsClient;
  let metricsPort: number;

  beforeAll(async () => {
    await ensureBuilt();
    api = await FakeApiServer.start([CONFIGMAPS, NAMESPACES]);
    dir = mkdtempSync(join(tmpdir(), 'grants-serve-'));
    metricsPort = await freePort();
    program = startProgram([
      'serve', '--port', '0', '--host', '127.0.0.1', '--metrics-port', String(metricsPort), '--metrics-host', '127.0.0.1', '--cert-dir', dir,
      '--schema-source', 'kubernetes', '--kubeconfig', api.writeKubeconfig(dir), '--trusted-namespace', 'backend-webhook-system', '--audit-interval', '0',
    ]);
    const listening = await program.waitForLog((l) => l.msg === 'backend-webhook listening', 60_000);
    client = new HttpsClient(`https://localhost:${listening.port}`, readFileSync(join(dir, 'ca.crt')));
  }, 90_000);

  afterAll(async () => {
    client?.close();
    await program?.kill();
    await api?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('is ready, logs the missing CRD once, and refuses a cross-namespace Secret reference', async () => {
    await until(async () => (await readyz(metricsPort)) === 200, 'readiness');
    await program.waitForLog((l) => /ReferenceGrant CRD is not installed/.test(l.msg ?? ''));
    const object = backend({
      destination: {
        type: 'Fqdn',
        fqdn: { hostname: 'api.example.com' },
        ports: [{ number: 443, protocol: 'HTTP', tls: { mode: 'Mutual', sni: 'api.example.com', clientCertificateRef: { name: 'c', namespace: 'certs' } } }],
      },
    });
    const answer = (await client.postJson('/validate?timeout=10s', review(object))).json.response;
    expect(answer.allowed).toBe(false);
    expect(answer.status.details.causes).toEqual([expect.objectContaining({ reason: 'FieldValueForbidden', field: 'spec.destination.ports[0].tls.clientCertificateRef.namespace' })]);
    expect(program.logs.filter((l) => /ReferenceGrant CRD is not installed/.test(l.msg ?? ''))).toHaveLength(1);
  }, 60_000);
});
