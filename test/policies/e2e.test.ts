/** Platform policies through the real HTTPS server: deny, warn, default, reload, GET /policies, metrics, the ConfigMap webhook. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configMapEndpoint } from '../../src/admission/configmap-handler.js';
import { DEFAULT_VALIDATION_OPTIONS } from '../../src/backend/options.js';
import { POLICY_SELECTOR, policyReviewer, type PolicyDocument } from '../../src/policies/format.js';
import { StaticNamespaceLabels } from '../../src/policies/namespaces.js';
import { PolicyRegistry } from '../../src/policies/registry.js';
import { policiesRoute, policyContextFor } from '../../src/policies/startup.js';
import { FileConfigMapSource } from '../../src/schemas/file-source.js';
import { decodePatch, review } from '../support/reviews.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { fqdnBackend, policyCm, until } from './support.js';

const OPENAI: PolicyDocument = {
  match: { hosts: ['*.openai.com'] },
  overrides: {
    allowedTlsModes: { modes: ['Simple', 'Mutual'], action: 'deny' },
    allowedPorts: { ports: [443], action: 'warn' },
  },
  defaults: { caBundleRef: [{ kind: 'ConfigMap', name: 'openai-ca' }] },
};

let dir: string;
let file: string;
let registry: PolicyRegistry;
let server: TestServer;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'policies-e2e-'));
  file = path.join(dir, 'openai.yaml');
  writeFileSync(file, stringify(policyCm('openai', OPENAI)));
  registry = new PolicyRegistry({ logger: pino({ level: 'silent' }) });
  await registry.start([new FileConfigMapSource({ paths: [dir], labelSelector: POLICY_SELECTOR, watch: true, debounceMs: 50 })]);
  const namespaces = new StaticNamespaceLabels([{ kind: 'Namespace', metadata: { name: 'team-a', labels: { tier: 'prod' } } }]);
  server = await startTestServer({
    validation: { ...DEFAULT_VALIDATION_OPTIONS, unknownExtensionPolicy: 'warn' },
    // The server's own Metrics exist only after start: resolve them per request.
    policies: () => policyContextFor(registry, namespaces, server.metrics)(),
    plugins: [policiesRoute(registry)],
    ready: () => registry.isReady(),
    extraEndpoints: [configMapEndpoint({ reviewers: [policyReviewer], isTrustedNamespace: (ns) => ns === 'platform' })],
  });
});

afterAll(async () => {
  await server?.close();
  await registry?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const validate = async (object: unknown) => (await server.client.postJson('/validate', review(object))).json.response;
const mutate = async (object: unknown) => (await server.client.postJson('/mutate', review(object))).json.response;

async function decisionCount(policy: string, rule: string, action: string): Promise<number> {
  const data = await server.metrics.policyDecisions.get();
  return data.values.find((v) => v.labels.policy === policy && v.labels.rule === rule && v.labels.action === action)?.value ?? 0;
}

describe('platform policies over HTTPS', () => {
  it('deny: refuses with the policy and rule at the field', async () => {
    const res = await validate(fqdnBackend('api.openai.com', [{ number: 443, protocol: 'HTTP', tls: { mode: 'None' } }]));
    expect(res.allowed).toBe(false);
    expect(res.status.details.causes).toEqual([
      { reason: 'FieldValueInvalid', field: 'spec.destination.ports[0].tls.mode', message: 'Invalid value: "None": policy platform/openai (allowedTlsModes): mode None is not allowed (allowed: Simple, Mutual)' },
    ]);
    expect(res.auditAnnotations['policy-errors']).toBe('1');
    expect(await decisionCount('platform/openai', 'allowedTlsModes', 'deny')).toBe(1);
  });

  it('warn: allows, with the warning', async () => {
    const res = await validate(fqdnBackend('api.openai.com', [{ number: 8443, protocol: 'HTTP', tls: { mode: 'Simple', sni: 'api.openai.com' } }]));
    expect(res.allowed).toBe(true);
    expect(res.warnings).toEqual(['policy platform/openai (allowedPorts): ports[0].number: port 8443 is not allowed (allowed: 443)']);
    expect(await decisionCount('platform/openai', 'allowedPorts', 'warn')).toBe(1);
  });

  it('default: the mutating webhook fills the CA bundle into TLS it (or the built-in default) leaves unpinned', async () => {
    const res = await mutate(fqdnBackend('api.openai.com', [{ number: 443, protocol: 'HTTP' }]));
    expect(res.allowed).toBe(true);
    expect(decodePatch(res)).toEqual([
      { op: 'add', path: '/spec/destination/ports/0/tls', value: { mode: 'Simple', sni: 'api.openai.com', caBundleRef: [{ kind: 'ConfigMap', name: 'openai-ca' }] } },
    ]);
    expect(await decisionCount('platform/openai', 'caBundleRef', 'default')).toBe(1);
    // Other hosts: the built-in default only.
    expect(decodePatch(await mutate(fqdnBackend('api.example.com', [{ number: 443, protocol: 'HTTP' }])))).toEqual([
      { op: 'add', path: '/spec/destination/ports/0/tls', value: { mode: 'Simple', sni: 'api.example.com' } },
    ]);
  });

  it('GET /policies lists the loaded policies and their matches', async () => {
    const res = await server.client.send('GET', '/policies');
    expect(res.status).toBe(200);
    expect(res.json.policies).toEqual([
      expect.objectContaining({ ref: 'platform/openai', loaded: true, match: { patterns: ['*.openai.com'] }, overrides: ['allowedTlsModes', 'allowedPorts'], defaults: ['caBundleRef'] }),
    ]);
    expect(res.json.conflicts).toEqual([]);
  });

  it('the ConfigMap webhook refuses a broken policy and admits a good one', async () => {
    const cmReview = (cm: unknown) => ({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: { uid: 'u1', kind: { group: '', version: 'v1', kind: 'ConfigMap' }, operation: 'CREATE', namespace: 'platform', name: 'p', object: cm },
    });
    const bad = (await server.client.postJson('/validate-extension-schema', cmReview(policyCm('p', 'overrides: {allowedTlsModes: {modes: [Plain]}}')))).json.response;
    expect(bad.allowed).toBe(false);
    expect(bad.status.details.causes[0].field).toBe('data[policy.yaml]/overrides/allowedTlsModes/modes/0');
    const good = (await server.client.postJson('/validate-extension-schema', cmReview(policyCm('p', OPENAI)))).json.response;
    expect(good.allowed).toBe(true);
  });

  it('a changed policy file changes the verdict without restart; a broken one keeps the last good', async () => {
    const none = fqdnBackend('api.openai.com', [{ number: 443, protocol: 'HTTP', tls: { mode: 'None' } }]);
    // Allowed with no policy at all (only OPENAI's allowedPorts warns about it): the relaxed policy denies it.
    const port8443 = fqdnBackend('api.openai.com', [{ number: 8443, protocol: 'HTTP', tls: { mode: 'Simple', sni: 'api.openai.com' } }]);
    const relaxed = { ...OPENAI, overrides: { allowedTlsModes: { modes: ['Simple', 'None'] }, allowedPorts: { ports: [443], action: 'deny' } } } as PolicyDocument;
    writeFileSync(file, stringify(policyCm('openai', relaxed)));
    await until(async () => (await validate(none)).allowed === true, 'the relaxed policy to apply');
    const denied8443 = (res: any): boolean =>
      res.allowed === false && res.status.details.causes.some((c: any) => c.field === 'spec.destination.ports[0].number' && c.message.includes('policy platform/openai (allowedPorts)'));
    expect(denied8443(await validate(port8443)), 'the relaxed policy denies port 8443').toBe(true);
    writeFileSync(file, stringify(policyCm('openai', 'overrides: {allowedTlsModes: {modes: []}}')));
    await until(() => registry.report().policies[0]?.error !== undefined, 'the broken version to be rejected');
    // Still the relaxed version: None allowed (not the first version), port 8443 denied (not dropped).
    expect(registry.snapshot().size).toBe(1);
    expect((await validate(none)).allowed).toBe(true);
    expect(denied8443(await validate(port8443)), 'the last good policy still denies port 8443').toBe(true);
    rmSync(file);
    await until(() => registry.snapshot().size === 0, 'the policy to go');
    expect((await validate(port8443)).allowed, 'with no policy, port 8443 is allowed').toBe(true);
  });
});
