/**
 * The in-cluster audit as shipped: `serve` (the built program) runs it in a worker thread against
 * the fake API server through client-node. The worker follows the schema ConfigMaps itself, waits
 * for them before judging, writes PolicyReports, and its metrics, logs and summary reach the server's
 * /metrics, stdout and GET /audit; SIGTERM stops it and releases the writer Lease.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, ensureBuilt, freePort, startProgram, type RunningProgram } from '../support/built-program.js';
import { CONFIGMAPS, FakeApiServer, type KubeObject, type ResourceType } from '../support/fake-apiserver.js';
import { HttpsClient } from '../support/https-client.js';
import { until } from '../policies/support.js';
import { httpGetOk } from '../support/http-get.js';

const GROUP = 'ainetworking.prototype.x-k8s.io';
const BACKENDS: ResourceType = { group: GROUP, version: 'v0alpha0', plural: 'backends', kind: 'Backend', namespaced: true };
const NAMESPACES: ResourceType = { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false };
const LEASES: ResourceType = { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease', namespaced: true };
const REPORTS: ResourceType = { group: 'wgpolicyk8s.io', version: 'v1alpha2', plural: 'policyreports', kind: 'PolicyReport', namespaced: true };
const SYSTEM = 'backend-webhook-system';

const toolsBackend = (namespace: string, name: string, categories: string[]): KubeObject => ({
  apiVersion: `${GROUP}/v0alpha0`,
  kind: 'Backend',
  metadata: { name, namespace },
  spec: {
    destination: { type: 'Fqdn', fqdn: { hostname: 'tools.example.com' }, ports: [{ number: 443, protocol: 'HTTP', tls: { mode: 'Simple', sni: 'tools.example.com' } }] },
    extensions: [{ name: 'filter', type: 'example.com/ToolFilter', rawConfig: { categories } }],
  },
});

const schemaFile = parseYaml(readFileSync(join(REPO, 'schemas/extensions/tool-filter.yaml'), 'utf8')) as KubeObject & { data: Record<string, string> };
/** The ToolFilter schema with the categories allowed narrowed to `allowed`. */
function toolFilterSchema(allowed: string[]): KubeObject {
  const schema = JSON.parse(schemaFile.data['schema.json']!);
  schema.properties.categories.items.enum = allowed;
  return { ...schemaFile, metadata: { ...schemaFile.metadata, namespace: SYSTEM }, data: { ...schemaFile.data, 'schema.json': JSON.stringify(schema) } };
}


const failed = (api: FakeApiServer, ns: string): string[] =>
  ((api.get(REPORTS, ns, 'backend-webhook') as any)?.results ?? []).filter((r: any) => r.result === 'fail').map((r: any) => r.resources[0].name);

describe('serve: the audit in its worker thread', () => {
  let api: FakeApiServer;
  let dir: string;
  let program: RunningProgram;
  let client: HttpsClient;
  let metricsPort: number;

  beforeAll(async () => {
    await ensureBuilt();
    api = await FakeApiServer.start([CONFIGMAPS, NAMESPACES, BACKENDS, LEASES, REPORTS]);
    dir = mkdtempSync(join(tmpdir(), 'bw-serve-audit-'));
    for (const ns of [SYSTEM, 'team-a']) api.create(NAMESPACES, { metadata: { name: ns } });
    api.create(CONFIGMAPS, toolFilterSchema(['search', 'fetch', 'filesystem', 'code', 'database']));
    // Valid by the registered schema: judged before the schema was loaded, it would be an unknown type.
    api.create(BACKENDS, toolsBackend('team-a', 'search', ['search']));
    api.create(BACKENDS, toolsBackend('team-a', 'database', ['database']));
    metricsPort = await freePort();
    program = startProgram([
      'serve', '--port', '0', '--host', '127.0.0.1', '--metrics-port', String(metricsPort), '--metrics-host', '127.0.0.1', '--cert-dir', dir,
      '--schema-source', 'kubernetes', '--kubeconfig', api.writeKubeconfig(dir), '--trusted-namespace', SYSTEM, '--audit-interval', '1h', '--audit-max-heap', '128Mi', '--shutdown-delay-seconds', '0',
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

  it('judges with the registered schema, reports, and shows it in GET /audit, /metrics and the log', async () => {
    let summary: any;
    await until(async () => {
      summary = (await client.send('GET', '/audit')).json;
      return Boolean(summary?.lastRun) && summary.reports === 'writing';
    }, 'first audit run', 30_000);
    expect(summary).toMatchObject({ enabled: true, worker: 'running', leader: true, objects: 2, violations: 0 });
    await until(async () => (api.get(REPORTS, 'team-a', 'backend-webhook') as any)?.summary?.pass === 2, 'clean report');
    const run = await program.waitForLog((l) => l.msg === 'audit run finished');
    expect(run).toMatchObject({ thread: 'audit', component: 'audit', objects: 2 });
    expect(await httpGetOk(metricsPort, '/metrics')).toMatch(/^backend_webhook_audit_objects 2$/m);
  }, 60_000);

  it('a schema tightened in the cluster reaches the worker: the stored object it now refuses is reported', async () => {
    api.update(CONFIGMAPS, toolFilterSchema(['search', 'fetch', 'filesystem', 'code']));
    await until(async () => failed(api, 'team-a').join() === 'database', 'tightened schema in the report', 30_000);
    const summary = (await client.send('GET', '/audit')).json;
    expect(summary).toMatchObject({ violations: 1, namespaces: [{ namespace: 'team-a', fail: 1, pass: 1 }] });
    expect(await httpGetOk(metricsPort, '/metrics')).toMatch(/^backend_webhook_audit_violations\{kind="Backend",namespace="team-a"\} 1$/m);
    // Admissions are the server's own: the same object is refused on the admission path too.
    const answer = (await client.postJson('/validate', { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'u1', kind: { group: GROUP, version: 'v0alpha0', kind: 'Backend' }, resource: { group: GROUP, version: 'v0alpha0', resource: 'backends' }, operation: 'CREATE', namespace: 'team-a', object: toolsBackend('team-a', 'database', ['database']) } })).json.response;
    expect(answer.allowed).toBe(false);
  }, 60_000);

  it('SIGTERM stops the worker, which releases the writer Lease', async () => {
    expect((api.get(LEASES, SYSTEM, 'backend-webhook-audit') as any).spec.holderIdentity).not.toBe('');
    program.child.kill('SIGTERM');
    expect(await program.exited).toBe(0);
    expect((api.get(LEASES, SYSTEM, 'backend-webhook-audit') as any).spec.holderIdentity).toBe('');
  }, 60_000);
});
