/**
 * Every metric an alert or a dashboard panel reads is exported by the running program (the built
 * `node dist/main.js serve`, scraped on its metrics port), so a rename cannot silently blind them.
 * The program runs as the Deployment runs it: ConfigMaps from the cluster (here the in-process fake
 * API server), background audit on; metrics that exist only in that mode (audit) are checked too.
 * The only exceptions are kube-state-metrics' series, named as a dependency in docs/operations.md.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, freePort, startProgram, type RunningProgram } from '../support/built-program.js';
import { CONFIGMAPS, FakeApiServer, type ResourceType } from '../support/fake-apiserver.js';
import { EXTERNAL_METRICS, OPERATIONS_DOC, alertRules, dashboardQueries, exportedNames, metricNamesIn } from './monitoring-files.js';
import { httpGetOk } from '../support/http-get.js';


const used = new Map<string, string[]>();
for (const alert of alertRules()) for (const name of metricNamesIn(alert.expr)) used.set(name, [...(used.get(name) ?? []), `alert ${alert.alert}`]);
for (const q of dashboardQueries()) for (const name of metricNamesIn(q.expr)) used.set(name, [...(used.get(name) ?? []), `panel "${q.panel}"`]);

describe('metricNamesIn (the PromQL lexer the checks rely on)', () => {
  it('finds selected metrics, not functions, labels, keywords, strings or durations', () => {
    const names = metricNamesIn(
      'histogram_quantile(0.99, sum by (endpoint, le) (rate(a_seconds_bucket{job=~"x", result="error"}[5m]))) > 1 and on (pod) b_total offset 5m unless ignoring(x) c - time() < 14 * 24 * 3600',
    );
    expect([...names].sort()).toEqual(['a_seconds_bucket', 'b_total', 'c']);
  });

  it('finds names in every alert and every dashboard query', () => {
    for (const alert of alertRules()) expect(metricNamesIn(alert.expr).size, alert.alert).toBeGreaterThan(0);
    for (const q of dashboardQueries()) expect(metricNamesIn(q.expr).size, q.panel).toBeGreaterThan(0);
  });
});

const GROUP = 'ainetworking.prototype.x-k8s.io';
const resource = (group: string, version: string, plural: string, kind: string, namespaced = true): ResourceType => ({ group, version, plural, kind, namespaced });
/** What serve reads and writes with the cluster source and audit on. */
const CLUSTER_RESOURCES = [
  CONFIGMAPS,
  resource('', 'v1', 'namespaces', 'Namespace', false),
  resource(GROUP, 'v0alpha0', 'backends', 'Backend'),
  resource(GROUP, 'v0alpha0', 'xbackenddestinations', 'XBackendDestination'),
  resource('coordination.k8s.io', 'v1', 'leases', 'Lease'),
  resource('wgpolicyk8s.io', 'v1alpha2', 'policyreports', 'PolicyReport'),
];

describe('metrics the alerts and the dashboard read', () => {
  let dir: string;
  let api: FakeApiServer;
  let program: RunningProgram;
  let exposition: string;

  beforeAll(async () => {
    await ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'exported-metrics-'));
    api = await FakeApiServer.start(CLUSTER_RESOURCES);
    const metricsPort = await freePort();
    program = startProgram([
      'serve', '--port', '0', '--host', '127.0.0.1', '--metrics-port', String(metricsPort), '--metrics-host', '127.0.0.1', '--cert-dir', dir,
      '--schema-source', 'kubernetes', '--kubeconfig', api.writeKubeconfig(dir), '--trusted-namespace', 'backend-webhook-system',
    ]);
    await program.waitForLog((l) => l.msg === 'backend-webhook listening');
    // The audit registers its metrics when it starts; its first run proves it has.
    await program.waitForLog((l) => l.msg === 'audit run finished', 60_000);
    exposition = await httpGetOk(metricsPort, '/metrics');
  });

  afterAll(async () => {
    await program?.kill();
    await api?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('are exported by the running server (histogram series by their _bucket/_sum/_count names)', () => {
    const exported = exportedNames(exposition);
    expect(exported.has('backend_webhook_admission_duration_seconds_bucket')).toBe(true);
    const missing = [...used.entries()].filter(([name]) => !exported.has(name) && !(name in EXTERNAL_METRICS)).map(([name, where]) => `${name} (${[...new Set(where)].join(', ')})`);
    expect(missing).toEqual([]);
  });

  it('come from elsewhere only as the documented kube-state-metrics dependency', () => {
    const doc = readFileSync(OPERATIONS_DOC, 'utf8');
    const exported = exportedNames(exposition);
    for (const [name, from] of Object.entries(EXTERNAL_METRICS)) {
      expect(used.has(name), `${name} is listed as external but nothing reads it`).toBe(true);
      expect(exported.has(name)).toBe(false);
      expect(doc).toContain(name);
      expect(doc).toContain(from);
    }
  });
});
