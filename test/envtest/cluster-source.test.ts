/**
 * `serve --schema-source kubernetes` against the real API server, run with a token of the
 * manifests' ServiceAccount (so manifests/rbac.yaml must allow every list and watch it makes):
 * extension schemas, platform policies and namespace labels followed live, and all three watches
 * recovering after kube-apiserver is stopped and started again (same etcd, same port).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { apiServerLifecycle, ApiClient, describeEnvtest, kubectlOk, serviceAccountToken, writeKubeconfig } from '../support/envtest-client.js';
import { apply, backend, collectionPath, createNamespace, deleteWebhookConfigurations, eventually, installCrds, manifest, startWebhookServer, webhookConfigurationCopies, type WebhookServer } from './support.js';

const SYSTEM = 'backend-webhook-system';
const TEAM = 'envtest-live';
const QUOTA = 'example.com/Quota:v1';
const SCHEMA_LABEL = 'ainetworking.prototype.x-k8s.io/extension-schema';
const POLICY_LABEL = 'ainetworking.prototype.x-k8s.io/backend-policy';

const quotaSchema = (maximum: number): unknown => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'quota-schema', namespace: SYSTEM, labels: { [SCHEMA_LABEL]: 'true' } },
  data: {
    type: QUOTA,
    'schema.json': JSON.stringify({ $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', required: ['limit'], additionalProperties: false, properties: { limit: { type: 'integer', minimum: 1, maximum } } }),
  },
});

const mutualOnly = (tier: string): unknown => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'restricted-mutual', namespace: SYSTEM, labels: { [POLICY_LABEL]: 'true' } },
  data: { 'policy.yaml': ['match:', '  hosts: ["*.example.com"]', `  namespaceSelector: { matchLabels: { tier: ${tier} } }`, 'overrides:', '  allowedTlsModes: { modes: [Mutual] }', ''].join('\n') },
});

const withQuota = (limit: number) => backend('quota', TEAM, { destination: { type: 'Service', service: { name: 'llm' }, ports: [{ number: 443, protocol: 'HTTP' }] }, extensions: [{ name: 'quota', type: QUOTA, rawConfig: { limit } }] });
const simpleTls = backend('simple', TEAM, { destination: { type: 'Fqdn', fqdn: { hostname: 'api.example.com' }, ports: [{ number: 443, protocol: 'HTTP', tls: { mode: 'Simple', sni: 'api.example.com' } }] } });

await describeEnvtest('serve --schema-source kubernetes on the real API server', (env) => {
  let server: WebhookServer;
  let api: ApiClient;

  /** The verdict on a dry-run create: 'allowed', or the causes' fields and reasons. */
  const verdict = async (object: unknown): Promise<string> => {
    const r = await api.request('POST', `${collectionPath(TEAM)}?dryRun=All&fieldValidation=Strict`, object);
    if (r.status === 201) return 'allowed';
    if (r.status === 422 && r.json.details?.causes) return r.json.details.causes.map((c: any) => `${c.field} ${c.reason}`).join('; ');
    return `HTTP ${r.status}: ${r.json.message}`;
  };
  const becomes = (what: string, object: unknown, expected: string): Promise<string> =>
    eventually(what, async () => {
      const v = await verdict(object);
      if (v !== expected) throw new Error(`verdict still ${JSON.stringify(v)}`);
      return v;
    });

  beforeAll(async () => {
    await deleteWebhookConfigurations(env());
    await installCrds(env());
    // The webhook's namespace, ServiceAccount and RBAC exactly as the manifests have them, and the
    // optional PolicyReport CRD, so the audit (on by default with this source) writes its reports.
    await apply(env(), [...manifest('namespace.yaml'), ...manifest('serviceaccount.yaml'), ...manifest('rbac.yaml'), ...manifest('policy-reports/crd-policyreports.yaml')]);
    await kubectlOk(env(), ['wait', '--for', 'condition=Established', '--timeout', '60s', 'crd/policyreports.wgpolicyk8s.io']);
    await createNamespace(env(), TEAM);
    // A stored Backend for the audit to judge and report on.
    await apply(env(), [backend('stored', TEAM, { destination: { type: 'Service', service: { name: 'llm' }, ports: [{ number: 443, protocol: 'HTTP' }] } })]);
    await kubectlOk(env(), ['delete', 'configmap', '-n', SYSTEM, '-l', `${SCHEMA_LABEL}=true`, '--ignore-not-found']);
    await kubectlOk(env(), ['delete', 'configmap', '-n', SYSTEM, '-l', `${POLICY_LABEL}=true`, '--ignore-not-found']);
    const kubeconfig = writeKubeconfig(env(), 'live-sa', await serviceAccountToken(env(), SYSTEM, 'backend-webhook'), `system:serviceaccount:${SYSTEM}:backend-webhook`);
    server = await startWebhookServer(['--schema-source', 'kubernetes', '--trusted-namespace', SYSTEM, '--kubeconfig', kubeconfig]);
    // Ready means every list succeeded: ConfigMaps in the trusted namespace (twice: schemas and
    // policies) and Namespaces, all with the ServiceAccount's permissions.
    await server.ready();
    api = new ApiClient(env());
    await apply(env(), webhookConfigurationCopies({ name: 'envtest-live', baseUrl: server.baseUrl, caPem: server.caPem }));
    await becomes('webhooks registered', withQuota(5), 'spec.extensions[0].type FieldValueNotSupported');
  });
  afterAll(async () => {
    await server?.stop();
    await deleteWebhookConfigurations(env());
  });

  it('runs with the ServiceAccount and no permission is missing', async () => {
    // The audit is the last to start: once its report is written (lease taken, Backends listed and
    // watched, PolicyReports listed and created), every component has made its first calls.
    await eventually('audit report written', async () => ((await kubectlOk(env(), ['get', 'policyreports', '-n', TEAM, '-o', 'name'])).trim() === 'policyreport.wgpolicyk8s.io/backend-webhook' ? true : undefined));
    // Gateway API's CRDs are not installed here: the one warning that says so (nothing is granted)
    // is expected; anything else at warn or above (a 403 above all) is a missing permission.
    const failures = server.program.logs.filter((l) => l.level >= 40 && l.component !== 'reference-grants');
    expect(failures).toEqual([]);
    expect(server.program.logs.filter((l) => l.component === 'reference-grants' && l.level >= 40).map((l) => l.msg)).toEqual([
      'the ReferenceGrant CRD is not installed: nothing is granted, cross-namespace Secret and ConfigMap references are refused',
    ]);
  });

  it('an extension schema applied with kubectl takes effect, and so does each change to it', async () => {
    await apply(env(), [quotaSchema(10)]);
    await becomes('schema registered', withQuota(5), 'allowed');
    expect(await verdict(withQuota(50))).toBe('spec.extensions[0].rawConfig/limit FieldValueInvalid');
    await apply(env(), [quotaSchema(100)]);
    await becomes('schema updated', withQuota(50), 'allowed');
  });

  it('a platform policy and the namespace labels it selects on are followed live', async () => {
    await apply(env(), [mutualOnly('restricted')]);
    // Not matched: the namespace has no tier label yet (the policy's arrival is seen below).
    expect(await verdict(simpleTls)).toBe('allowed');
    await kubectlOk(env(), ['label', 'namespace', TEAM, 'tier=restricted']);
    await becomes('namespace label seen', simpleTls, 'spec.destination.ports[0].tls.mode FieldValueInvalid');
    const refused = await api.request('POST', `${collectionPath(TEAM)}?dryRun=All`, simpleTls);
    expect(refused.json.details.causes[0].message).toMatch(/backend-webhook-system\/restricted-mutual/);
    await kubectlOk(env(), ['label', 'namespace', TEAM, 'tier-']);
    await becomes('namespace label removal seen', simpleTls, 'allowed');
  });

  it('after kube-apiserver stops and starts again, all three watches deliver again', async () => {
    const marker = server.program.logs.length;
    const since = (predicate: (l: any) => boolean) => (l: any) => server.program.logs.indexOf(l) >= marker && predicate(l);
    try {
      await apiServerLifecycle('stop');
      // The outage is seen: both ConfigMap sources and the namespace watch fail, keeping what they have.
      await server.program.waitForLog(since((l) => l.registry === 'extension-schemas' && /source failed/.test(l.msg)), 60_000);
      await server.program.waitForLog(since((l) => l.registry === 'backend-policies' && /source failed/.test(l.msg)), 60_000);
      await server.program.waitForLog(since((l) => l.component === 'namespace-cache' && /watch failed/.test(l.msg)), 60_000);
    } finally {
      await apiServerLifecycle('start');
    }
    await server.program.waitForLog(since((l) => l.registry === 'extension-schemas' && /source relisted/.test(l.msg)), 60_000);

    // Changes made after the restart reach us: a schema removed, a namespace labelled, a policy changed.
    await kubectlOk(env(), ['delete', 'configmap', 'quota-schema', '-n', SYSTEM]);
    await becomes('schema removal after restart', withQuota(5), 'spec.extensions[0].type FieldValueNotSupported');
    await kubectlOk(env(), ['label', 'namespace', TEAM, 'tier=restricted']);
    await becomes('namespace label after restart', simpleTls, 'spec.destination.ports[0].tls.mode FieldValueInvalid');
    await apply(env(), [mutualOnly('other')]);
    await becomes('policy change after restart', simpleTls, 'allowed');
  });
});
