/**
 * The in-cluster audit against the in-process fake API server, through client-node: stored objects
 * are followed by list + watch, judged with the server's context, and written as PolicyReports by
 * the one replica that holds the Lease.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { HandlerContext } from '../../src/admission/handlers.js';
import { BackgroundAudit } from '../../src/audit/background.js';
import { AuditMetrics } from '../../src/audit/metrics.js';
import { AUDITED_RESOURCES } from '../../src/audit/run.js';
import { DEFAULT_VALIDATION_OPTIONS } from '../../src/backend/options.js';
import { EMPTY_LOOKUP } from '../../src/schemas/registry.js';
import { FakeApiServer, type KubeObject, type ResourceType } from '../support/fake-apiserver.js';

const GROUP = 'ainetworking.prototype.x-k8s.io';
const BACKENDS: ResourceType = { group: GROUP, version: 'v0alpha0', plural: 'backends', kind: 'Backend', namespaced: true };
const DESTINATIONS: ResourceType = { group: GROUP, version: 'v0alpha0', plural: 'xbackenddestinations', kind: 'XBackendDestination', namespaced: true };
const LEASES: ResourceType = { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease', namespaced: true };
const REPORTS: ResourceType = { group: 'wgpolicyk8s.io', version: 'v1alpha2', plural: 'policyreports', kind: 'PolicyReport', namespaced: true };

const backend = (namespace: string, name: string, address: string): KubeObject => ({
  apiVersion: `${GROUP}/v0alpha0`,
  kind: 'Backend',
  metadata: { name, namespace },
  spec: { destination: { type: 'Ip', ip: { address }, ports: [{ number: 443, protocol: 'HTTP', tls: { mode: 'Simple' } }] } },
});

async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bw-bg-audit-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const running: BackgroundAudit[] = [];
const servers: FakeApiServer[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((a) => a.stop()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function cluster(resources: ResourceType[] = [BACKENDS, DESTINATIONS, LEASES, REPORTS]): Promise<{ api: FakeApiServer; kc: KubeConfig }> {
  const api = await FakeApiServer.start(resources);
  servers.push(api);
  const kc = new KubeConfig();
  kc.loadFromFile(api.writeKubeconfig(dir, `kc-${servers.length}-${Date.now()}.yaml`));
  return { api, kc };
}

function audit(kc: KubeConfig, overrides: { handler?: () => HandlerContext; rules?: () => unknown[]; identity?: string; relistIntervalMs?: number; logs?: string[]; cpuShare?: number } = {}): BackgroundAudit {
  const logs = overrides.logs;
  const logger = logs ? pino({ level: 'info' }, { write: (line: string) => void logs.push(line) }) : pino({ level: 'silent' });
  const a = new BackgroundAudit({
    kubeConfig: kc,
    resources: AUDITED_RESOURCES,
    handler: overrides.handler ?? (() => ({ schemas: EMPTY_LOOKUP, options: DEFAULT_VALIDATION_OPTIONS })),
    rulesVersion: overrides.rules ?? (() => []),
    intervalMs: 0,
    debounceMs: 50,
    reportFormat: 'wgpolicyk8s',
    leaseNamespace: 'backend-webhook-system',
    identity: overrides.identity ?? 'replica-a',
    leaseDurationMs: 1500,
    ...(overrides.relistIntervalMs ? { relistIntervalMs: overrides.relistIntervalMs } : {}),
    ...(overrides.cpuShare ? { cpuShare: overrides.cpuShare } : {}),
    logger,
    metrics: new AuditMetrics(new Registry()),
  });
  running.push(a);
  return a;
}

const report = (api: FakeApiServer, ns: string) => api.get(REPORTS, ns, 'backend-webhook') as any;
const failed = (api: FakeApiServer, ns: string): string[] =>
  (report(api, ns)?.results ?? []).filter((r: any) => r.result === 'fail').map((r: any) => `${r.resources[0].name} ${r.rule}`);

describe('background audit', { timeout: 60_000 }, () => {
  it('writes one PolicyReport per namespace: failures by object and rule, passes, exact summary', async () => {
    const { api, kc } = await cluster();
    api.create(BACKENDS, backend('team-a', 'metadata', '169.254.169.254'));
    api.create(BACKENDS, backend('team-a', 'ok', '203.0.113.10'));
    api.create(BACKENDS, backend('team-b', 'loopback', '127.0.0.1'));
    const a = audit(kc);
    await a.start();
    await waitFor('reports', () => report(api, 'team-a') && report(api, 'team-b'));
    const teamA = report(api, 'team-a');
    expect(teamA.metadata.labels['app.kubernetes.io/managed-by']).toBe('backend-webhook');
    expect(teamA.summary).toEqual({ pass: 1, fail: 1, warn: 0, error: 0, skip: 0 });
    expect(teamA.results[0]).toMatchObject({
      source: 'backend-webhook',
      policy: 'backend-webhook/builtin',
      rule: 'spec.destination.ip.address',
      result: 'fail',
      scored: true,
      resources: [{ kind: 'Backend', name: 'metadata', namespace: 'team-a' }],
    });
    expect(teamA.results[0].message).toMatch(/^spec\.destination\.ip\.address: /);
    expect(failed(api, 'team-b')).toEqual(['loopback spec.destination.ip.address']);
    expect(a.summary()).toMatchObject({ leader: true, objects: 3, violations: 2, reports: 'writing' });
    const text = await (a.metrics as AuditMetrics).violationsGauge.get();
    expect(text.values.map((v) => [v.labels.namespace, v.value]).sort()).toEqual([['team-a', 1], ['team-b', 1]]);
  });

  it('follows changes: a fixed object leaves the report, a new bad one enters, an emptied namespace loses its report', async () => {
    const { api, kc } = await cluster();
    api.create(BACKENDS, backend('team-a', 'metadata', '169.254.169.254'));
    api.create(BACKENDS, backend('team-c', 'only', '127.0.0.1'));
    const a = audit(kc);
    await a.start();
    await waitFor('first report', () => failed(api, 'team-a').length === 1 && report(api, 'team-c'));
    const rv = report(api, 'team-a').metadata.resourceVersion;
    api.update(BACKENDS, backend('team-a', 'metadata', '203.0.113.7'));
    await waitFor('fixed object out of the report', () => failed(api, 'team-a').length === 0 && report(api, 'team-a').summary.pass === 1);
    expect(report(api, 'team-a').metadata.resourceVersion).not.toBe(rv);
    api.create(BACKENDS, backend('team-a', 'new-bad', '0.0.0.0'));
    await waitFor('new failure in the report', () => failed(api, 'team-a').join() === 'new-bad spec.destination.ip.address');
    api.delete(BACKENDS, 'team-c', 'only');
    await waitFor('emptied namespace report deleted', () => report(api, 'team-c') === undefined);
  });

  it('a schema or policy change re-judges everything within one debounce', async () => {
    const { api, kc } = await cluster();
    api.create(BACKENDS, backend('team-a', 'private', '10.1.2.3'));
    let options = DEFAULT_VALIDATION_OPTIONS;
    let version = [{}];
    const a = audit(kc, { handler: () => ({ schemas: EMPTY_LOOKUP, options }), rules: () => version });
    await a.start();
    await waitFor('clean report', () => report(api, 'team-a')?.summary.pass === 1);
    // Tighten: the platform now refuses 10.0.0.0/8.
    options = { ...DEFAULT_VALIDATION_OPTIONS, extraDeniedCidrs: ['10.0.0.0/8'] };
    version = [{}];
    await waitFor('tightened rule in the report', () => failed(api, 'team-a').join() === 'private spec.destination.ip.address');
  });

  it('a watch that dies silently is repaired by the periodic relist', async () => {
    const { api, kc } = await cluster();
    const a = audit(kc, { relistIntervalMs: 1500 });
    api.create(BACKENDS, backend('team-a', 'first', '127.0.0.1'));
    await a.start();
    await waitFor('first report', () => failed(api, 'team-a').length === 1);
    api.silenceWatches();
    api.create(BACKENDS, backend('team-a', 'second', '127.0.0.2'));
    await waitFor('relisted object judged', () => failed(api, 'team-a').length === 2, 30_000);
  });

  it('two replicas: only the Lease holder writes; when it dies the other takes over and keeps reports correct', async () => {
    const { api, kc } = await cluster();
    api.create(BACKENDS, backend('team-a', 'metadata', '169.254.169.254'));
    const a = audit(kc, { identity: 'replica-a' });
    await a.start();
    await waitFor('a leads', () => a.summary().leader);
    const b = audit(kc, { identity: 'replica-b' });
    await b.start();
    await waitFor('reports by a', () => failed(api, 'team-a').length === 1);
    await waitFor('b judged too', () => b.summary().violations === 1);
    expect(b.summary().leader).toBe(false);
    expect(api.get(LEASES, 'backend-webhook-system', 'backend-webhook-audit')!.spec).toMatchObject({ holderIdentity: 'replica-a' });
    const writesBefore = api.countRequests((r) => r.method !== 'GET' && r.path.includes('policyreports'));

    // a dies without a word: no release, no more renewals.
    await a.stop({ releaseLease: false });
    running.splice(running.indexOf(a), 1);
    await waitFor('b takes over', () => b.summary().leader, 20_000);
    expect(api.get(LEASES, 'backend-webhook-system', 'backend-webhook-audit')!.spec).toMatchObject({ holderIdentity: 'replica-b', leaseTransitions: 1 });
    api.create(BACKENDS, backend('team-a', 'second', '127.0.0.1'));
    await waitFor('b writes', () => failed(api, 'team-a').length === 2);
    expect(api.countRequests((r) => r.method !== 'GET' && r.path.includes('policyreports'))).toBeGreaterThan(writesBefore);
  });

  it('without the PolicyReport CRD: no reports, one log line, judging goes on', async () => {
    const { api, kc } = await cluster([BACKENDS, DESTINATIONS, LEASES]);
    api.create(BACKENDS, backend('team-a', 'metadata', '169.254.169.254'));
    const logs: string[] = [];
    const a = audit(kc, { logs });
    await a.start();
    await waitFor('judged', () => a.summary().violations === 1);
    await waitFor('crd absent state', () => a.summary().reports === 'crd-absent');
    api.create(BACKENDS, backend('team-a', 'second', '127.0.0.1'));
    await waitFor('judged again', () => a.summary().violations === 2);
    await new Promise((r) => setTimeout(r, 1000));
    expect(logs.filter((l) => l.includes('report CRD is not installed'))).toHaveLength(1);
  });

  it('--audit-max-cpu: a run rests between slices so judging takes at most its share of the time', async () => {
    const { api, kc } = await cluster();
    for (let i = 0; i < 400; i++) api.create(BACKENDS, backend(`team-${i % 4}`, `b-${i}`, i % 2 ? '203.0.113.9' : '127.0.0.1'));
    const logs: string[] = [];
    const a = audit(kc, { logs, cpuShare: 0.2 });
    await a.start();
    const line = await waitFor('a full run', () => logs.map((l) => JSON.parse(l)).find((l) => l.msg === 'audit run finished'));
    expect(line.objects).toBe(400);
    expect(line.judgingMs).toBeGreaterThan(0);
    // Rest owed is busy * (1 - share) / share and never cut short (less than 2 ms may be left over).
    expect(line.durationMs + 5).toBeGreaterThanOrEqual(line.judgingMs / 0.2);
    expect(a.summary()).toMatchObject({ objects: 400, violations: 200 });
  });
});
