/**
 * The manifests on a real API server: `kubectl apply --server-side -k manifests/` accepted whole;
 * `inject-ca` and `serve --inject-ca` against the manifests' own webhook configurations, run with a
 * token of the manifests' ServiceAccount (so manifests/rbac.yaml is what allows or refuses them);
 * idempotent; and the caBundle surviving a re-apply of the manifests (field ownership).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freePort, runProgram } from '../support/built-program.js';
import { ApiClient, describeEnvtest, kubectl, kubectlOk, serviceAccountToken, writeKubeconfig } from '../support/envtest-client.js';
import type { EnvtestInfo } from '../support/envtest.js';
import { backend, collectionPath, createNamespace, deleteWebhookConfigurations, GROUP, MANIFESTS, manifest, startWebhookServer, type WebhookServer } from './support.js';

const NS = 'backend-webhook-system';
const SA = 'backend-webhook';
const TEAM = 'envtest-manifests';
const VALIDATING = 'validatingwebhookconfiguration/backend-webhook';
const MUTATING = 'mutatingwebhookconfiguration/backend-webhook';

/** The CA PEMs in every webhook's caBundle of one configuration. */
async function caBundles(env: EnvtestInfo, resource: string): Promise<string[]> {
  const config = JSON.parse(await kubectlOk(env, ['get', resource, '-o', 'json']));
  return config.webhooks.map((w: any) => Buffer.from(w.clientConfig.caBundle ?? '', 'base64').toString('utf8'));
}

const normal = (pem: string): string => pem.replace(/\r/g, '').trim();

await describeEnvtest('the manifests on a real API server', (env) => {
  let work: string;
  let saKubeconfig: string;
  const servers: WebhookServer[] = [];

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'envtest-manifests-'));
    await deleteWebhookConfigurations(env());
  });
  afterAll(async () => {
    for (const s of servers) await s.stop();
    // The manifests' configurations call a Service no pod backs: leave no Fail webhook behind.
    await deleteWebhookConfigurations(env());
    rmSync(work, { recursive: true, force: true });
  });

  it('kubectl apply --server-side -k manifests/ is accepted whole and the CRDs become Established', async () => {
    const rendered = (await kubectlOk(env(), ['kustomize', MANIFESTS])).trim();
    const expected = rendered.split(/^---$/m).length;
    const r = await kubectl(env(), ['apply', '--server-side', '-k', MANIFESTS]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(expected);
    for (const line of lines) expect(line).toMatch(/ serverside-applied$/);
    await kubectlOk(env(), ['wait', '--for', 'condition=Established', '--timeout', '60s', `crd/backends.${GROUP}`, `crd/xbackenddestinations.${GROUP}`]);
    // The objects are there as written: e.g. our webhook configurations, with their five-second timeouts.
    const validating = JSON.parse(await kubectlOk(env(), ['get', VALIDATING, '-o', 'json']));
    expect(validating.webhooks.map((w: any) => [w.name, w.timeoutSeconds, w.failurePolicy])).toEqual(manifest('validatingwebhookconfiguration.yaml')[0].webhooks.map((w: any) => [w.name, 5, 'Fail']));
  });

  it('inject-ca with the ServiceAccount token patches both configurations, and a second run changes nothing', async () => {
    saKubeconfig = writeKubeconfig(env(), 'manifests-sa', await serviceAccountToken(env(), NS, SA), `system:serviceaccount:${NS}:${SA}`);
    const certs = join(work, 'cli-certs');
    expect(runProgram(['certs', '--out-dir', certs]).code).toBe(0);
    const caFile = join(certs, 'ca.crt');
    const first = runProgram(['inject-ca', '--ca-file', caFile, '--kubeconfig', saKubeconfig]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout.trim().split('\n')).toEqual(['ValidatingWebhookConfiguration backend-webhook: patched (5 webhooks)', 'MutatingWebhookConfiguration backend-webhook: patched (2 webhooks)']);
    const ca = normal(readFileSync(caFile, 'utf8'));
    for (const resource of [VALIDATING, MUTATING]) for (const bundle of await caBundles(env(), resource)) expect(normal(bundle)).toBe(ca);

    const versions = async () => kubectlOk(env(), ['get', VALIDATING, MUTATING, '-o', 'jsonpath={.items[*].metadata.resourceVersion}']);
    const before = await versions();
    const second = runProgram(['inject-ca', '--ca-file', caFile, '--kubeconfig', saKubeconfig]);
    expect(second.code).toBe(0);
    expect(second.stdout.trim().split('\n')).toEqual(['ValidatingWebhookConfiguration backend-webhook: unchanged (5 webhooks)', 'MutatingWebhookConfiguration backend-webhook: unchanged (2 webhooks)']);
    expect(await versions()).toBe(before);
  });

  it('the ServiceAccount may touch our two configurations only (RBAC from manifests/rbac.yaml)', async () => {
    const other = runProgram(['inject-ca', '--ca-file', join(work, 'cli-certs', 'ca.crt'), '--kubeconfig', saKubeconfig, '--validating-name', 'someone-else', '--mutating-name', 'someone-else']);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/ValidatingWebhookConfiguration someone-else: not allowed to read or patch .*\(HTTP 403\)/);
    expect(other.stderr).toMatch(/MutatingWebhookConfiguration someone-else: not allowed to read or patch .*\(HTTP 403\)/);
  });

  it('the caBundle survives a re-apply of the manifests: server-side apply leaves fields it does not own', async () => {
    const ca = normal(readFileSync(join(work, 'cli-certs', 'ca.crt'), 'utf8'));
    await kubectlOk(env(), ['apply', '--server-side', '-k', MANIFESTS]);
    for (const resource of [VALIDATING, MUTATING]) for (const bundle of await caBundles(env(), resource)) expect(normal(bundle)).toBe(ca);
    const config = JSON.parse(await kubectlOk(env(), ['get', VALIDATING, '-o', 'json', '--show-managed-fields']));
    const owner = config.metadata.managedFields.find((f: any) => JSON.stringify(f.fieldsV1).includes('f:caBundle'));
    expect(owner.manager).toBe('backend-webhook');
  });

  it('serve --inject-ca with the ServiceAccount token: the API server then calls it through the manifests\' own configurations', async () => {
    await createNamespace(env(), TEAM);
    const port = await freePort();
    // The manifests, with each clientConfig pointed at our server's URL instead of the Service
    // (no pods run here): a kustomize overlay, applied by the same field manager, so the Service
    // fields it no longer sets are removed and the caBundle, owned by backend-webhook, stays.
    const overlay = join(work, 'overlay');
    const patch = (target: string, paths: string[]): string =>
      [
        `- target: {group: admissionregistration.k8s.io, kind: ${target}, name: backend-webhook}`,
        '  patch: |-',
        ...paths.flatMap((p, i) => [`    - {op: remove, path: /webhooks/${i}/clientConfig/service}`, `    - {op: add, path: /webhooks/${i}/clientConfig/url, value: "https://127.0.0.1:${port}${p}"}`]),
      ].join('\n');
    const validatingPaths = manifest('validatingwebhookconfiguration.yaml')[0].webhooks.map((w: any) => w.clientConfig.service.path);
    const mutatingPaths = manifest('mutatingwebhookconfiguration.yaml')[0].webhooks.map((w: any) => w.clientConfig.service.path);
    rmSync(overlay, { recursive: true, force: true });
    mkdirSync(overlay, { recursive: true });
    writeFileSync(
      join(overlay, 'kustomization.yaml'),
      ['apiVersion: kustomize.config.k8s.io/v1beta1', 'kind: Kustomization', 'resources:', `  - ${relative(overlay, MANIFESTS)}`, 'patches:', patch('ValidatingWebhookConfiguration', validatingPaths), patch('MutatingWebhookConfiguration', mutatingPaths), ''].join('\n'),
    );
    await kubectlOk(env(), ['apply', '--server-side', '-k', overlay]);

    const server = await startWebhookServer(['--schema-source', 'kubernetes', '--trusted-namespace', NS, '--kubeconfig', saKubeconfig, '--inject-ca'], { port });
    servers.push(server);
    await server.ready();
    const injected = await server.program.waitForLog((l) => l.msg === 'CA injection' && l.kind === 'MutatingWebhookConfiguration');
    expect(injected.outcome).toBe('patched');
    expect(server.program.logs.filter((l) => l.msg === 'CA injection').map((l) => l.outcome)).toEqual(['patched', 'patched']);
    // Both CAs are trusted now: the CLI's (unexpired, kept) and the server's.
    for (const resource of [VALIDATING, MUTATING]) {
      for (const bundle of await caBundles(env(), resource)) {
        expect(normal(bundle)).toContain(normal(server.caPem));
        expect(normal(bundle)).toContain(normal(readFileSync(join(work, 'cli-certs', 'ca.crt'), 'utf8')));
      }
    }

    const api = new ApiClient(env());
    const denied = await api.request('POST', `${collectionPath(TEAM)}?dryRun=All&fieldValidation=Strict`, backend('legacy-mode', TEAM, { destination: { type: 'Fqdn', fqdn: { hostname: 'api.openai.com' }, ports: [{ number: 443, protocol: 'HTTP', tls: { mode: 'SIMPLE' } }] } }));
    expect(denied.status).toBe(422);
    expect(denied.json.message).toMatch(/^admission webhook "backends\.validation\.ainetworking\.prototype\.x-k8s\.io" denied the request: /);
    const defaulted = await api.request('POST', `${collectionPath(TEAM)}?dryRun=All&fieldValidation=Strict`, backend('openai', TEAM, { destination: { type: 'Fqdn', fqdn: { hostname: 'api.openai.com' }, ports: [{ number: 443, protocol: 'HTTP' }] } }));
    expect(defaulted.status).toBe(201);
    expect(defaulted.json.spec.destination.ports[0].tls).toEqual({ mode: 'Simple', sni: 'api.openai.com' });

    // A restart on the same certificates finds nothing to do.
    await server.program.kill();
    const again = await startWebhookServer(['--schema-source', 'kubernetes', '--trusted-namespace', NS, '--kubeconfig', saKubeconfig, '--inject-ca'], { port, certDir: server.certDir });
    servers.push(again);
    await again.ready();
    await again.program.waitForLog((l) => l.msg === 'CA injection' && l.kind === 'MutatingWebhookConfiguration');
    expect(again.program.logs.filter((l) => l.msg === 'CA injection').map((l) => l.outcome)).toEqual(['unchanged', 'unchanged']);

    // Re-applying the overlay, then the plain manifests, keeps the injected bundle.
    await kubectlOk(env(), ['apply', '--server-side', '-k', overlay]);
    expect((await api.request('POST', `${collectionPath(TEAM)}?dryRun=All`, backend('openai', TEAM, { destination: { type: 'Fqdn', fqdn: { hostname: 'api.openai.com' }, ports: [{ number: 443, protocol: 'HTTP' }] } }))).status).toBe(201);
    await kubectlOk(env(), ['apply', '--server-side', '-k', MANIFESTS]);
    const validating = JSON.parse(await kubectlOk(env(), ['get', VALIDATING, '-o', 'json']));
    for (const w of validating.webhooks) {
      expect(w.clientConfig.url).toBeUndefined();
      expect(w.clientConfig.service).toMatchObject({ name: 'backend-webhook', namespace: NS });
      expect(normal(Buffer.from(w.clientConfig.caBundle, 'base64').toString('utf8'))).toContain(normal(server.caPem));
    }
  });
});
