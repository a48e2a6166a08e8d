/**
 * docs/deploy.md and manifests/kustomization.yaml say what works: the cert-manager Component renders
 * the way the docs apply it (from an overlay next to manifests/) and not alone, and the uninstall
 * steps that keep the CRDs remove every other cluster-scoped object of ours.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { REPO } from '../support/built-program.js';
import { kubectl } from '../support/kubectl.js';
import { describeWithTool } from '../support/external-tool.js';

const DEPLOY = readFileSync(join(REPO, 'docs/deploy.md'), 'utf8');

interface KubeObject {
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
}

/** The text of the heredoc `cat > <file> <<'EOF' ... EOF` in the docs. */
function heredoc(text: string, file: string): string {
  const start = text.indexOf(`cat > ${file} <<'EOF'\n`);
  if (start < 0) throw new Error(`docs/deploy.md has no heredoc for ${file}`);
  const body = text.slice(start).split('\n').slice(1);
  return `${body.slice(0, body.indexOf('EOF')).join('\n')}\n`;
}

/** The fenced block of a section (the first ```sh block after the heading). */
function section(heading: string): string {
  const at = DEPLOY.indexOf(heading);
  if (at < 0) throw new Error(`docs/deploy.md has no section ${heading}`);
  const open = DEPLOY.indexOf('```sh\n', at);
  return DEPLOY.slice(open + 6, DEPLOY.indexOf('```', open + 6));
}

let work: string;
beforeAll(() => {
  // The layout the docs assume: overlays/ next to manifests/ (a link to the repository's).
  work = mkdtempSync(join(tmpdir(), 'bw-deploy-docs-'));
  symlinkSync(join(REPO, 'manifests'), join(work, 'manifests'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const render = async (dir: string): Promise<{ code: number; stderr: string; objects: KubeObject[] }> => {
  const result = await kubectl('kubectl', ['kustomize', dir], { home: work });
  return { code: result.code, stderr: result.stderr, objects: result.code === 0 ? parseAllDocuments(result.stdout).map((d) => d.toJS() as KubeObject) : [] };
};

describeWithTool('kubectl', 'cert-manager, as documented', () => {
  it('the overlay from docs/deploy.md renders: Certificate and Issuers in, the CA-injection ClusterRole out', async () => {
    const overlay = join(work, 'overlays', 'cert-manager');
    mkdirSync(overlay, { recursive: true });
    writeFileSync(join(overlay, 'kustomization.yaml'), heredoc(DEPLOY, 'overlays/cert-manager/kustomization.yaml'));
    expect(DEPLOY).toContain('kubectl apply -k overlays/cert-manager/');
    const { code, stderr, objects } = await render(overlay);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const kinds = objects.map((o) => `${o.kind}/${o.metadata.name}`);
    expect(kinds).toEqual(expect.arrayContaining(['Certificate/backend-webhook-tls', 'Deployment/backend-webhook', 'ValidatingWebhookConfiguration/backend-webhook']));
    expect(kinds).not.toContain('ClusterRole/backend-webhook');
  });

  it('the Component alone cannot be applied (so nothing may say `apply -k manifests/cert-manager/`)', async () => {
    const alone = await render(join(work, 'manifests', 'cert-manager'));
    expect(alone.code).not.toBe(0);
    const kustomization = readFileSync(join(REPO, 'manifests/kustomization.yaml'), 'utf8');
    for (const text of [kustomization, DEPLOY, readFileSync(join(REPO, 'README.md'), 'utf8')]) expect(text).not.toMatch(/apply -k manifests\/cert-manager/);
    expect(kustomization).toMatch(/components: \[\.\.\/\.\.\/manifests\/cert-manager\]/);
  });
}, ['version', '--client'], { timeout: 60_000 });

describeWithTool('kubectl', 'uninstalling, keeping the CRDs', () => {
  it('deletes every cluster-scoped object of ours but the CRDs: webhook configurations, namespace, all ClusterRoles and bindings', async () => {
    const steps = section('To keep them, delete everything except the CRDs');
    const { code, objects } = await render(join(work, 'manifests'));
    expect(code).toBe(0);
    const clusterScoped = objects.filter((o) => o.metadata.namespace === undefined && o.kind !== 'CustomResourceDefinition');
    expect(clusterScoped.map((o) => o.kind)).toEqual(expect.arrayContaining(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration']));
    const byLabel = /kubectl delete clusterrole,clusterrolebinding -l app\.kubernetes\.io\/name=backend-webhook/.test(steps);
    for (const o of clusterScoped) {
      const what = `${o.kind}/${o.metadata.name}`;
      switch (o.kind) {
        case 'Namespace':
          expect(steps, what).toContain(`kubectl delete namespace ${o.metadata.name}`);
          break;
        case 'ValidatingWebhookConfiguration':
        case 'MutatingWebhookConfiguration':
          expect(steps, what).toMatch(new RegExp(`kubectl delete [a-z,]*${o.kind.toLowerCase()}[a-z,]* ${o.metadata.name}`));
          break;
        case 'ClusterRole':
        case 'ClusterRoleBinding':
          expect(byLabel, `${what}: the uninstall steps delete ClusterRoles and bindings by label`).toBe(true);
          expect(o.metadata.labels?.['app.kubernetes.io/name'], `${what} carries the label the uninstall deletes by`).toBe('backend-webhook');
          break;
        default:
          throw new Error(`${what} is cluster-scoped and not covered by the uninstall steps in docs/deploy.md`);
      }
    }
  });
}, ['version', '--client'], { timeout: 60_000 });
