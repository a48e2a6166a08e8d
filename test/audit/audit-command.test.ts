/**
 * `backend-webhook audit` through the built program, reading a cluster through client-node (the
 * in-process fake API server): stored objects are judged as if written today, schemas and policies
 * count only from trusted namespaces, and the exit codes tell CI clean / violations / error.
 */
import { readFileSync } from 'node:fs';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, ensureBuilt, freePort } from '../support/built-program.js';
import { CONFIGMAPS, FakeApiServer, type KubeObject, type ResourceType } from '../support/fake-apiserver.js';
import { execFile } from 'node:child_process';

const GROUP = 'ainetworking.prototype.x-k8s.io';
const BACKENDS: ResourceType = { group: GROUP, version: 'v0alpha0', plural: 'backends', kind: 'Backend', namespaced: true };
const DESTINATIONS: ResourceType = { group: GROUP, version: 'v0alpha0', plural: 'xbackenddestinations', kind: 'XBackendDestination', namespaced: true };
const XBACKENDS: ResourceType = { group: 'gateway.networking.x-k8s.io', version: 'v1alpha1', plural: 'xbackends', kind: 'XBackend', namespaced: true };
const TLS_POLICIES: ResourceType = { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'backendtlspolicies', kind: 'BackendTLSPolicy', namespaced: true };
const NAMESPACES: ResourceType = { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false };

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(REPO, 'dist/main.js'), 'audit', ...args], { cwd: REPO, env: { PATH: process.env.PATH ?? '', HOME: tmpdir() }, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

function backend(namespace: string, name: string, destination: Record<string, unknown>, extra: Record<string, unknown> = {}, labels: Record<string, string> = {}): KubeObject {
  return { apiVersion: `${GROUP}/v0alpha0`, kind: 'Backend', metadata: { name, namespace, labels }, spec: { destination: { ...destination, ports: [{ number: 443, protocol: 'HTTP', tls: { mode: 'Simple' } }] }, ...extra } };
}
const fqdn = (hostname: string) => ({ type: 'Fqdn', fqdn: { hostname } });

const schemaConfigMap = (namespace: string): KubeObject => {
  const file = parseYaml(readFileSync(join(REPO, 'schemas/extensions/tool-filter.yaml'), 'utf8')) as KubeObject;
  return { ...file, metadata: { ...file.metadata, namespace } };
};

let api: FakeApiServer;
let dir: string;
let kubeconfig: string;

beforeAll(async () => {
  await ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'bw-audit-'));
  api = await FakeApiServer.start([CONFIGMAPS, NAMESPACES, BACKENDS, DESTINATIONS, XBACKENDS, TLS_POLICIES]);
  kubeconfig = api.writeKubeconfig(dir);
  for (const ns of ['backend-webhook-system', 'team-a', 'team-b', 'rogue']) api.create(NAMESPACES, { metadata: { name: ns, labels: { team: ns } } });
  // Stored before the webhook (or before the rules tightened): each breaks one rule today.
  api.create(BACKENDS, backend('team-a', 'openai', fqdn('api.openai.com')));
  api.create(BACKENDS, backend('team-b', 'metadata', { type: 'Ip', ip: { address: '169.254.169.254' } }, {}, { tier: 'legacy' }));
  api.create(BACKENDS, backend('team-b', 'tools', fqdn('tools.example.com'), { extensions: [{ name: 'filter', type: 'example.com/ToolFilter', rawConfig: { categories: 'all' } }] }));
  api.create(DESTINATIONS, { ...backend('team-a', 'internal', fqdn('db.team-a.svc.cluster.local')), kind: 'XBackendDestination' });
  // The other served kinds (src/kinds/registry.ts) are audited too.
  api.create(XBACKENDS, { apiVersion: 'gateway.networking.x-k8s.io/v1alpha1', kind: 'XBackend', metadata: { name: 'imds', namespace: 'team-b' }, spec: { type: 'ExternalHostname', externalHostname: { hostname: '169.254.169.254' }, port: { port: 80 } } });
  api.create(TLS_POLICIES, { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'BackendTLSPolicy', metadata: { name: 'tls', namespace: 'team-b' }, spec: { targetRefs: [{ group: GROUP, kind: 'Backend', name: 'tools' }], validation: { hostname: 'tools.example.com', wellKnownCACertificates: 'System' } } });
  // The schema counts from the trusted namespace only; the same ConfigMap elsewhere is ignored.
  api.create(CONFIGMAPS, schemaConfigMap('backend-webhook-system'));
});

afterAll(async () => {
  await api?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('audit', { timeout: 120_000 }, () => {
  it('reports every stored object that breaks a rule today, with the field, and exits 1', async () => {
    const result = await run(['--kubeconfig', kubeconfig, '-o', 'json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout);
    const byName = new Map<string, any>(report.results.map((r: any) => [`${r.kind}/${r.namespace}/${r.name}`, r]));
    expect(byName.get('Backend/team-a/openai').outcome).toBe('valid');
    expect(byName.get('Backend/team-b/metadata').errors.map((e: any) => e.field)).toEqual(['spec.destination.ip.address']);
    // Judged against the trusted schema: categories must be an array.
    expect(byName.get('Backend/team-b/tools').errors.map((e: any) => e.field)).toEqual(['spec.extensions[0].rawConfig/categories']);
    expect(byName.get('XBackendDestination/team-a/internal').errors.map((e: any) => e.field)).toEqual(['spec.destination.fqdn.hostname']);
    // The schema ConfigMap is judged too (it compiles), and Namespaces are context, not subjects.
    expect(byName.get('ConfigMap/backend-webhook-system/extension-schema-tool-filter').outcome).toBe('valid');
    expect([...byName.keys()].some((k) => k.startsWith('Namespace/'))).toBe(false);
    expect(byName.get('XBackend/team-b/imds').errors.map((e: any) => e.field)).toEqual(['spec.externalHostname.hostname']);
    expect(byName.get('BackendTLSPolicy/team-b/tls').errors.map((e: any) => e.field)).toEqual(['spec.targetRefs[0]']);
    expect(report.summary).toMatchObject({ judged: 7, valid: 2, invalid: 5 });
  });

  it('--namespace and --selector narrow what is judged', async () => {
    const teamA = await run(['--kubeconfig', kubeconfig, '-o', 'json', '--namespace', 'team-a']);
    const names = JSON.parse(teamA.stdout).results.filter((r: any) => r.kind !== 'ConfigMap').map((r: any) => r.name).sort();
    expect(names).toEqual(['internal', 'openai']);
    const legacy = await run(['--kubeconfig', kubeconfig, '-o', 'json', '--selector', 'tier=legacy']);
    expect(legacy.code).toBe(1);
    expect(JSON.parse(legacy.stdout).results.filter((r: any) => r.kind !== 'ConfigMap').map((r: any) => r.name)).toEqual(['metadata']);
    const clean = await run(['--kubeconfig', kubeconfig, '--selector', 'tier=none']);
    expect(clean.code).toBe(0);
    expect(clean.stdout).toMatch(/Summary: 1 judged, 1 valid, 0 invalid/);
  });

  it('a schema only in an untrusted namespace does not count', async () => {
    const result = await run(['--kubeconfig', kubeconfig, '-o', 'json', '--trusted-namespace', 'rogue', '--namespace', 'team-b']);
    const tools = JSON.parse(result.stdout).results.find((r: any) => r.name === 'tools');
    // No trusted schema for the type now: the unknown-type rule, not the schema's.
    expect(tools.errors.map((e: any) => e.field)).toEqual(['spec.extensions[0].type']);
  });

  it('the server\'s validation flags apply (--unknown-extension-policy warn)', async () => {
    const result = await run(['--kubeconfig', kubeconfig, '-o', 'json', '--trusted-namespace', 'rogue', '--namespace', 'team-b', '--unknown-extension-policy', 'warn']);
    const tools = JSON.parse(result.stdout).results.find((r: any) => r.name === 'tools' && r.kind === 'Backend');
    expect(tools.outcome).toBe('valid');
    expect(tools.warnings.length).toBe(1);
  });

  it('text output names each violation; an unreachable cluster or bad kubeconfig exits 2 with one line', async () => {
    const text = await run(['--kubeconfig', kubeconfig]);
    expect(text.stdout).toMatch(/Backend\/team-b\/metadata.*spec\.destination\.ip\.address/);
    const port = await freePort();
    const gone = join(dir, 'gone.kubeconfig');
    writeFileSync(gone, readFileSync(kubeconfig, 'utf8').replace(api.url, `http://127.0.0.1:${port}`));
    const unreachable = await run(['--kubeconfig', gone]);
    expect(unreachable.code).toBe(2);
    expect(unreachable.stderr.trim().split('\n')).toHaveLength(1);
    expect(unreachable.stderr).toMatch(/^error: cannot list backends\.ainetworking\.prototype\.x-k8s\.io/);
    const missing = await run(['--kubeconfig', join(dir, 'nope')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^error: cannot load the Kubernetes client configuration/);
  });
});
