import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runInjectCaCommand } from '../../src/cli/inject-ca.js';
import { generateCa, type CertificateKeyPair } from '../../src/tls/generate.js';
import { CaInjectionError, injectCaBundle, planCaBundlePatch } from '../../src/tls/inject-ca.js';
import { mergeCaBundles, splitPemCertificates } from '../../src/tls/pem.js';
import { FakeApiServer, MUTATING_WEBHOOKS, VALIDATING_WEBHOOKS, type KubeObject } from '../support/fake-apiserver.js';

const YEAR = 365 * 86_400_000;

let oldCa: CertificateKeyPair;
let expiredCa: CertificateKeyPair;
let newCa: CertificateKeyPair;
let foreignCa: CertificateKeyPair;
let dir: string;
let api: FakeApiServer;
let kubeconfig: string;

const fp = (pem: string): string => new X509Certificate(pem).fingerprint256;
const b64 = (pem: string): string => Buffer.from(pem).toString('base64');
/** Fingerprints of the certificates in a caBundle field, in order. */
const bundle = (caBundle: unknown): string[] => splitPemCertificates(Buffer.from(String(caBundle ?? ''), 'base64').toString('utf8')).map(fp);

function webhookConfiguration(name: string, caBundles: Array<string | undefined>): KubeObject {
  return {
    metadata: { name },
    webhooks: caBundles.map((caBundle, i) => ({
      name: `hook-${i}.example.com`,
      clientConfig: { service: { name: 'backend-webhook', namespace: 'backend-webhook-system', path: '/validate' }, ...(caBundle === undefined ? {} : { caBundle }) },
      admissionReviewVersions: ['v1'],
      sideEffects: 'None',
    })),
  };
}

const caBundlesOf = (resource: typeof VALIDATING_WEBHOOKS, name: string): unknown[] =>
  ((api.get(resource, undefined, name)?.webhooks as Array<{ clientConfig: { caBundle?: string } }>) ?? []).map((w) => w.clientConfig.caBundle);

const patches = (): string[] => api.requests.filter((r) => r.method === 'PATCH').map((r) => r.path);

beforeAll(async () => {
  const longAgo = new Date(Date.now() - 10 * YEAR);
  oldCa = generateCa({ commonName: 'old-ca' });
  expiredCa = generateCa({ commonName: 'expired-ca', now: longAgo, validityDays: 30 });
  newCa = generateCa({ commonName: 'new-ca' });
  foreignCa = generateCa({ commonName: 'someone-elses-ca' });
  dir = mkdtempSync(join(tmpdir(), 'bw-inject-'));
  api = await FakeApiServer.start([VALIDATING_WEBHOOKS, MUTATING_WEBHOOKS]);
  kubeconfig = api.writeKubeconfig(dir);
});
afterAll(async () => {
  await api.close();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  for (const resource of [VALIDATING_WEBHOOKS, MUTATING_WEBHOOKS]) for (const o of api.list(resource)) api.delete(resource, undefined, o.metadata.name);
  api.clearFailures();
  api.requests.length = 0;
  api.create(VALIDATING_WEBHOOKS, webhookConfiguration('backend-webhook', [b64(oldCa.certPem + expiredCa.certPem), b64(oldCa.certPem)]));
  api.create(MUTATING_WEBHOOKS, webhookConfiguration('backend-webhook', [undefined]));
  api.create(VALIDATING_WEBHOOKS, webhookConfiguration('someone-else', [b64(foreignCa.certPem)]));
  api.create(MUTATING_WEBHOOKS, webhookConfiguration('someone-else', [b64(foreignCa.certPem)]));
});

describe('injectCaBundle against the API stand-in', () => {
  it('patches only our two configurations: old unexpired CA kept, expired CA dropped, new CA appended', async () => {
    const results = await injectCaBundle({ caPem: newCa.certPem, kubeconfig });
    expect(results.map((r) => [r.kind, r.name, r.outcome, r.webhooks])).toEqual([
      ['ValidatingWebhookConfiguration', 'backend-webhook', 'patched', 2],
      ['MutatingWebhookConfiguration', 'backend-webhook', 'patched', 1],
    ]);
    expect(patches()).toEqual([
      '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/backend-webhook',
      '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/backend-webhook',
    ]);
    expect(caBundlesOf(VALIDATING_WEBHOOKS, 'backend-webhook').map(bundle)).toEqual([
      [fp(oldCa.certPem), fp(newCa.certPem)],
      [fp(oldCa.certPem), fp(newCa.certPem)],
    ]);
    expect(caBundlesOf(MUTATING_WEBHOOKS, 'backend-webhook').map(bundle)).toEqual([[fp(newCa.certPem)]]);
    for (const resource of [VALIDATING_WEBHOOKS, MUTATING_WEBHOOKS]) {
      expect(caBundlesOf(resource, 'someone-else')).toEqual([b64(foreignCa.certPem)]);
    }
    // The rest of the object is untouched.
    const validating = api.get(VALIDATING_WEBHOOKS, undefined, 'backend-webhook') as KubeObject & { webhooks: Array<Record<string, any>> };
    expect(validating.webhooks[1]).toMatchObject({ name: 'hook-1.example.com', sideEffects: 'None', clientConfig: { service: { path: '/validate' } } });
  });

  it('is idempotent: a second run changes nothing and sends no patch', async () => {
    await injectCaBundle({ caPem: newCa.certPem, kubeconfig });
    api.requests.length = 0;
    const again = await injectCaBundle({ caPem: newCa.certPem, kubeconfig });
    expect(again.map((r) => r.outcome)).toEqual(['unchanged', 'unchanged']);
    expect(patches()).toEqual([]);
  });

  it('retries when the object changed between read and patch', async () => {
    api.failRequests({ match: (r) => r.method === 'PATCH', status: 409, times: 1 });
    const results = await injectCaBundle({ caPem: newCa.certPem, kubeconfig, mutatingName: null });
    expect(results.map((r) => r.outcome)).toEqual(['patched']);
    expect(patches()).toHaveLength(2);
    expect(caBundlesOf(VALIDATING_WEBHOOKS, 'backend-webhook').map(bundle)[0]).toEqual([fp(oldCa.certPem), fp(newCa.certPem)]);
  });

  it('guards the patch with the resourceVersion it read (a concurrent edit is not overwritten)', () => {
    const object = api.get(VALIDATING_WEBHOOKS, undefined, 'backend-webhook')!;
    const { patch } = planCaBundlePatch(object, newCa.certPem, new Date());
    expect(patch[0]).toEqual({ op: 'test', path: '/metadata/resourceVersion', value: object.metadata.resourceVersion });
    expect(patch.slice(1).map((op) => op.path)).toEqual(['/webhooks/0/clientConfig/caBundle', '/webhooks/1/clientConfig/caBundle']);
  });

  it('reports a missing configuration and still patches the other', async () => {
    const results = await injectCaBundle({ caPem: newCa.certPem, kubeconfig, mutatingName: 'not-there' });
    expect(results.map((r) => [r.name, r.outcome, r.error?.code])).toEqual([
      ['backend-webhook', 'patched', undefined],
      ['not-there', 'failed', 'NOT_FOUND'],
    ]);
  });

  it('refuses to inject something that is not an unexpired CA', async () => {
    const codeOf = async (caPem: string) => {
      try {
        await injectCaBundle({ caPem, kubeconfig });
        return undefined;
      } catch (error) {
        return error instanceof CaInjectionError ? error.code : 'untyped';
      }
    };
    expect(await codeOf('not a certificate')).toBe('BAD_CA');
    expect(await codeOf(expiredCa.certPem)).toBe('BAD_CA');
    expect(api.requests).toEqual([]);
  });
});

describe('mergeCaBundles', () => {
  it('keeps order, drops expired, unreadable and duplicate certificates', () => {
    const junk = '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n';
    const merged = mergeCaBundles(oldCa.certPem + expiredCa.certPem + junk + oldCa.certPem, newCa.certPem + oldCa.certPem, new Date());
    expect(splitPemCertificates(merged.pem).map(fp)).toEqual([fp(oldCa.certPem), fp(newCa.certPem)]);
    expect(merged).toMatchObject({ kept: 1, dropped: 3, added: 1 });
  });

  it('drops the old CA on the day it expires', () => {
    const afterExpiry = new Date(oldCa.notAfter.getTime() + 1000);
    expect(splitPemCertificates(mergeCaBundles(oldCa.certPem, newCa.certPem, afterExpiry).pem).map(fp)).toEqual([fp(newCa.certPem)]);
  });
});

describe('runInjectCaCommand', () => {
  const capture = () => {
    const lines = { out: [] as string[], err: [] as string[] };
    return { lines, output: { out: (l: string) => void lines.out.push(l), err: (l: string) => void lines.err.push(l) } };
  };

  it('injects a CA file and says what it did', async () => {
    const caFile = join(dir, 'ca.crt');
    writeFileSync(caFile, newCa.certPem);
    const { lines, output } = capture();
    const code = await runInjectCaCommand({ caFile, kubeconfig, validatingName: 'backend-webhook', mutatingName: 'backend-webhook' }, output);
    expect(code).toBe(0);
    expect(lines.out).toEqual(['ValidatingWebhookConfiguration backend-webhook: patched (2 webhooks)', 'MutatingWebhookConfiguration backend-webhook: patched (1 webhook)']);
    expect(caBundlesOf(MUTATING_WEBHOOKS, 'backend-webhook').map(bundle)).toEqual([[fp(newCa.certPem)]]);
  });

  it('exit codes: 1 when a configuration is missing, 2 for an unreadable or unusable CA file', async () => {
    const caFile = join(dir, 'ca.crt');
    writeFileSync(caFile, newCa.certPem);
    const missing = capture();
    expect(await runInjectCaCommand({ caFile, kubeconfig, validatingName: 'nope', mutatingName: 'backend-webhook' }, missing.output)).toBe(1);
    expect(missing.lines.err).toEqual(['error: ValidatingWebhookConfiguration nope: ValidatingWebhookConfiguration nope not found']);
    expect(await runInjectCaCommand({ caFile: join(dir, 'absent.crt'), kubeconfig, validatingName: 'a', mutatingName: 'b' }, capture().output)).toBe(2);
    writeFileSync(join(dir, 'junk.crt'), 'junk');
    expect(await runInjectCaCommand({ caFile: join(dir, 'junk.crt'), kubeconfig, validatingName: 'a', mutatingName: 'b' }, capture().output)).toBe(2);
  });
});

describe('no cluster to talk to', () => {
  const saved = { KUBECONFIG: process.env.KUBECONFIG, HOME: process.env.HOME };
  let home: string;
  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), 'bw-home-'));
    delete process.env.KUBECONFIG;
    process.env.HOME = home; // no ~/.kube/config
  });
  afterEach(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    rmSync(home, { recursive: true, force: true });
  });

  it('says no cluster was found and how to point at one (exit 2), not an HTTP-protocol error', async (ctx) => {
    if (existsSync('/var/run/secrets/kubernetes.io/serviceaccount/token')) ctx.skip(); // in a pod, in-cluster config is found
    const caFile = join(dir, 'ca.crt');
    writeFileSync(caFile, newCa.certPem);
    const lines: string[] = [];
    const code = await runInjectCaCommand({ caFile, validatingName: 'backend-webhook', mutatingName: 'backend-webhook' }, { out: (l) => void lines.push(l), err: (l) => void lines.push(l) });
    expect(code).toBe(2);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^error: no cluster found/);
    expect(lines[0]).toMatch(/--kubeconfig/);
    expect(lines[0]).toMatch(/KUBECONFIG/);
    expect(lines[0]).toMatch(/in-cluster/);
    expect(lines[0]).not.toMatch(/HTTP protocol|skipTLSVerify/);
    await expect(injectCaBundle({ caPem: newCa.certPem })).rejects.toMatchObject({ code: 'KUBECONFIG' });
  });

  it('an empty KUBECONFIG and a HOME with a kubeconfig: the file is used (no false "no cluster")', async () => {
    process.env.KUBECONFIG = '';
    const kube = join(home, '.kube');
    mkdirSync(kube);
    writeFileSync(join(kube, 'config'), readFileSync(kubeconfig));
    const results = await injectCaBundle({ caPem: newCa.certPem, mutatingName: null });
    expect(results.map((r) => r.outcome)).toEqual(['patched']);
  });
});
