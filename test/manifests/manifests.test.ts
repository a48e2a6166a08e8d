/**
 * The deployment manifests: admission-registration rules that keep a cluster safe when the webhook
 * misbehaves, and names, ports and labels that agree across objects (a typo there only shows up as
 * a failed call in a real cluster).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { all } from '../../src/kinds/registry.js';
import {
  MANIFEST_DIR,
  type Manifest,
  findAll,
  findOne,
  loadManifests,
  readKustomization,
  readYamlDocuments,
  repoFile,
  selectorMatches,
  yamlFilesIn,
} from './manifest-loader.js';

const NAMESPACE = 'backend-webhook-system';
const NAME = 'backend-webhook';
const GROUP = 'ainetworking.prototype.x-k8s.io';
const SCHEMA_LABEL = 'ainetworking.prototype.x-k8s.io/extension-schema';
const POLICY_LABEL = 'ainetworking.prototype.x-k8s.io/backend-policy';
const COMMON_LABELS = {
  'app.kubernetes.io/name': 'backend-webhook',
  'app.kubernetes.io/component': 'admission-webhook',
};
const SERVER_ENDPOINTS = ['/validate', '/mutate', '/validate-extension-schema'];
const CERT_MOUNT = '/etc/backend-webhook/certs';
const CLUSTER_SCOPED = new Set([
  'Namespace',
  'CustomResourceDefinition',
  'ClusterRole',
  'ClusterRoleBinding',
  'ValidatingWebhookConfiguration',
  'MutatingWebhookConfiguration',
]);

const manifests = loadManifests();
const deployment = findOne(manifests, 'Deployment', NAME);
const service = findOne(manifests, 'Service', NAME);
const podSpec = deployment.spec.template.spec as Manifest;
const container = findContainer(podSpec, 'webhook');
const validating = findOne(manifests, 'ValidatingWebhookConfiguration', NAME);
const mutating = findOne(manifests, 'MutatingWebhookConfiguration', NAME);
const allWebhooks: Array<{ config: string; webhook: Manifest }> = [
  ...(validating.webhooks as Manifest[]).map((webhook) => ({ config: 'validating', webhook })),
  ...(mutating.webhooks as Manifest[]).map((webhook) => ({ config: 'mutating', webhook })),
];

function findContainer(spec: Manifest, name: string): Manifest {
  const found = (spec.containers as Manifest[]).find((c) => c.name === name);
  if (!found) throw new Error(`no container ${name}`);
  return found;
}

function envValue(name: string): string | undefined {
  return (container.env as Manifest[]).find((e) => e.name === name)?.value as string | undefined;
}

function containerPort(name: string): number {
  const port = (container.ports as Manifest[]).find((p) => p.name === name);
  if (!port) throw new Error(`no container port named ${name}`);
  return port.containerPort as number;
}

function isConfigMapWebhook(webhook: Manifest): boolean {
  return (webhook.rules as Manifest[]).some((rule) => (rule.resources as string[]).includes('configmaps'));
}

interface AdmissionCall {
  group: string;
  version: string;
  resource: string;
  operation: string;
  namespace: string;
  labels?: Record<string, string>;
}

/** Which webhooks the API server would call for a request (rules, namespace and object selectors). */
function webhooksCalledFor(call: AdmissionCall): string[] {
  const matchesRule = (rule: Manifest): boolean =>
    (rule.apiGroups as string[]).includes(call.group) &&
    (rule.apiVersions as string[]).includes(call.version) &&
    (rule.resources as string[]).includes(call.resource) &&
    (rule.operations as string[]).includes(call.operation);
  return allWebhooks
    .filter(({ webhook }) => (webhook.rules as Manifest[]).some(matchesRule))
    .filter(({ webhook }) =>
      selectorMatches(webhook.namespaceSelector, { 'kubernetes.io/metadata.name': call.namespace }),
    )
    .filter(({ webhook }) => selectorMatches(webhook.objectSelector, call.labels ?? {}))
    .map(({ webhook }) => webhook.name as string);
}

describe('manifest files', () => {
  it('parse, and every object has apiVersion, kind, a name and our labels', () => {
    expect(manifests.length).toBeGreaterThan(10);
    for (const { file, doc } of manifests) {
      expect(doc.apiVersion, file).toEqual(expect.any(String));
      expect(doc.kind, file).toEqual(expect.any(String));
      expect(doc.metadata?.name, `${file} ${doc.kind}`).toEqual(expect.any(String));
      expect(doc.metadata.labels?.['app.kubernetes.io/name'], `${file} ${doc.kind}`).toBe(NAME);
    }
  });

  it('put every namespaced object in the webhook namespace and none of the cluster-scoped ones', () => {
    for (const { file, doc } of manifests) {
      if (CLUSTER_SCOPED.has(doc.kind)) expect(doc.metadata.namespace, `${file} ${doc.kind}`).toBeUndefined();
      else expect(doc.metadata.namespace, `${file} ${doc.kind}`).toBe(NAMESPACE);
    }
  });

  it('hold only the kinds a webhook deployment needs', () => {
    const kinds = new Set(manifests.map((m) => m.doc.kind));
    expect([...kinds].sort()).toEqual(
      [
        'ClusterRole',
        'ClusterRoleBinding',
        'CustomResourceDefinition',
        'Deployment',
        'MutatingWebhookConfiguration',
        'Namespace',
        'PodDisruptionBudget',
        'Role',
        'RoleBinding',
        'Service',
        'ServiceAccount',
        'ValidatingWebhookConfiguration',
      ].sort(),
    );
  });

  it('kustomization.yaml lists every manifest file, and only existing ones', () => {
    const kustomization = readKustomization();
    expect(kustomization.kind).toBe('Kustomization');
    const listed = [...(kustomization.resources as string[])].sort();
    const onDisk = yamlFilesIn(MANIFEST_DIR).filter((f) => f !== 'kustomization.yaml');
    expect(listed).toEqual(onDisk);
    // kubectl apply -k must not pull in the optional cert-manager component.
    expect(listed.some((entry) => entry.includes('cert-manager'))).toBe(false);
  });

  it('kustomization images entry names the Deployment image, so `kustomize edit set image` works', () => {
    const images = readKustomization().images as Manifest[];
    const imageName = (container.image as string).split(':')[0];
    expect(images.map((i) => i.name)).toContain(imageName);
  });

  it('namespace enforces the restricted Pod Security Standard', () => {
    const namespace = findOne(manifests, 'Namespace', NAMESPACE);
    expect(namespace.metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
  });
});

describe('webhook configurations', () => {
  it('have unique, fully qualified webhook names', () => {
    const names = allWebhooks.map(({ webhook }) => webhook.name as string);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name.split('.').length, name).toBeGreaterThanOrEqual(3);
  });

  it.each(allWebhooks.map(({ config, webhook }) => [`${config} ${String(webhook.name)}`, webhook] as const))(
    '%s: safe admission settings',
    (_label, webhook) => {
      expect(webhook.failurePolicy).toBe('Fail');
      expect(webhook.sideEffects).toBe('None');
      expect(webhook.timeoutSeconds).toBeGreaterThanOrEqual(1);
      expect(webhook.timeoutSeconds).toBeLessThanOrEqual(5);
      expect(webhook.admissionReviewVersions).toEqual(['v1', 'v1beta1']);
      expect(webhook.matchPolicy).toBe('Equivalent');
      for (const rule of webhook.rules as Manifest[]) {
        // Never DELETE or CONNECT: a webhook on DELETE that is down wedges namespace deletion.
        expect([...(rule.operations as string[])].sort()).toEqual(['CREATE', 'UPDATE']);
        expect(rule.scope).toBe('Namespaced');
        expect(JSON.stringify(rule)).not.toContain('*');
      }
      const excluded = (webhook.namespaceSelector?.matchExpressions as Manifest[] | undefined)?.find(
        (e) => e.key === 'kubernetes.io/metadata.name' && e.operator === 'NotIn',
      );
      expect(excluded?.values).toContain('kube-system');
    },
  );

  it.each(allWebhooks.map(({ config, webhook }) => [`${config} ${String(webhook.name)}`, webhook] as const))(
    '%s: calls our Service on a server endpoint, CA left to injection',
    (_label, webhook) => {
      const target = webhook.clientConfig.service as Manifest;
      expect(webhook.clientConfig.url).toBeUndefined();
      expect(target.name).toBe(service.metadata.name);
      expect(target.namespace).toBe(service.metadata.namespace);
      const httpsPort = (service.spec.ports as Manifest[]).find((p) => p.name === 'https');
      expect(target.port).toBe(httpsPort?.port);
      expect(SERVER_ENDPOINTS).toContain(target.path);
      // Absent, not "": a later `kubectl apply` must not wipe the injected CA.
      expect(webhook.clientConfig.caBundle).toBeUndefined();
    },
  );

  it('Backend webhooks cover exactly both CRDs, exclude our own namespace, validate on /validate', () => {
    const crdPlurals = findAll(manifests, 'CustomResourceDefinition')
      .map((crd) => crd.spec.names.plural as string)
      .sort();
    // The other served kinds' webhooks: test/kinds/manifests.test.ts.
    const backendWebhooks = allWebhooks.filter(({ webhook }) => !isConfigMapWebhook(webhook) && (webhook.rules as Manifest[]).some((r) => (r.apiGroups as string[]).includes(GROUP)));
    expect(backendWebhooks.map(({ config }) => config).sort()).toEqual(['mutating', 'validating']);
    for (const { config, webhook } of backendWebhooks) {
      const [rule, ...others] = webhook.rules as Manifest[];
      expect(others).toEqual([]);
      expect(rule?.apiGroups).toEqual([GROUP]);
      expect(rule?.apiVersions).toEqual(['v0alpha0']);
      expect([...(rule?.resources as string[])].sort()).toEqual(crdPlurals);
      const excluded = (webhook.namespaceSelector.matchExpressions as Manifest[]).find(
        (e) => e.key === 'kubernetes.io/metadata.name' && e.operator === 'NotIn',
      );
      expect(excluded?.values).toEqual(expect.arrayContaining(['kube-system', NAMESPACE]));
      expect(webhook.objectSelector).toBeUndefined();
      expect(webhook.clientConfig.service.path).toBe(config === 'mutating' ? '/mutate' : '/validate');
    }
  });

  it('mutating webhook may be reinvoked (defaulting is idempotent)', () => {
    expect((mutating.webhooks as Manifest[]).length).toBe(2);
    for (const webhook of mutating.webhooks as Manifest[]) expect(webhook.reinvocationPolicy).toBe('IfNeeded');
  });

  it('ConfigMap webhooks are validating only, on /validate-extension-schema, each behind an objectSelector', () => {
    const configMapWebhooks = allWebhooks.filter(({ webhook }) => isConfigMapWebhook(webhook));
    expect(configMapWebhooks.length).toBeGreaterThan(0);
    const selectedLabels: string[] = [];
    for (const { config, webhook } of configMapWebhooks) {
      expect(config).toBe('validating');
      expect(webhook.rules).toEqual([
        { apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'], operations: ['CREATE', 'UPDATE'], scope: 'Namespaced' },
      ]);
      expect(webhook.clientConfig.service.path).toBe('/validate-extension-schema');
      const expressions = (webhook.objectSelector?.matchExpressions ?? []) as Manifest[];
      expect(expressions.length).toBeGreaterThan(0);
      for (const e of expressions) {
        expect(e.operator).toBe('In');
        expect(e.values).toEqual(['true']);
        selectedLabels.push(e.key as string);
      }
    }
    expect(selectedLabels.sort()).toEqual([POLICY_LABEL, SCHEMA_LABEL].sort());
  });

  describe('which requests the API server sends us', () => {
    const backendCall = { group: GROUP, version: 'v0alpha0', resource: 'backends', namespace: 'team-a' };
    const configMapCall = { group: '', version: 'v1', resource: 'configmaps', namespace: NAMESPACE };

    it('Backend and XBackendDestination writes in a tenant namespace: validating and mutating', () => {
      for (const resource of ['backends', 'xbackenddestinations']) {
        for (const operation of ['CREATE', 'UPDATE']) {
          expect(webhooksCalledFor({ ...backendCall, resource, operation }).sort()).toEqual(
            [
              'backends.defaulting.ainetworking.prototype.x-k8s.io',
              'backends.validation.ainetworking.prototype.x-k8s.io',
            ].sort(),
          );
        }
      }
    });

    it('never DELETE, never the status subresource, never kube-system or our own namespace', () => {
      expect(webhooksCalledFor({ ...backendCall, operation: 'DELETE' })).toEqual([]);
      expect(webhooksCalledFor({ ...backendCall, resource: 'backends/status', operation: 'UPDATE' })).toEqual([]);
      expect(webhooksCalledFor({ ...backendCall, operation: 'CREATE', namespace: 'kube-system' })).toEqual([]);
      expect(webhooksCalledFor({ ...backendCall, operation: 'CREATE', namespace: NAMESPACE })).toEqual([]);
      expect(
        webhooksCalledFor({ ...configMapCall, operation: 'DELETE', labels: { [SCHEMA_LABEL]: 'true' } }),
      ).toEqual([]);
    });

    it('no unlabelled ConfigMap write anywhere ever waits on us', () => {
      for (const namespace of ['default', NAMESPACE, 'kube-system']) {
        for (const operation of ['CREATE', 'UPDATE']) {
          expect(webhooksCalledFor({ ...configMapCall, namespace, operation })).toEqual([]);
          expect(
            webhooksCalledFor({ ...configMapCall, namespace, operation, labels: { app: 'x', [SCHEMA_LABEL]: 'false' } }),
          ).toEqual([]);
        }
      }
    });

    it('labelled schema and policy ConfigMaps are validated, including in our own namespace', () => {
      expect(webhooksCalledFor({ ...configMapCall, operation: 'CREATE', labels: { [SCHEMA_LABEL]: 'true' } })).toEqual([
        'extension-schemas.validation.ainetworking.prototype.x-k8s.io',
      ]);
      expect(webhooksCalledFor({ ...configMapCall, operation: 'UPDATE', labels: { [POLICY_LABEL]: 'true' } })).toEqual([
        'backend-policies.validation.ainetworking.prototype.x-k8s.io',
      ]);
      expect(
        webhooksCalledFor({ ...configMapCall, operation: 'CREATE', namespace: 'kube-system', labels: { [SCHEMA_LABEL]: 'true' } }),
      ).toEqual([]);
    });

    it('a labelled Secret is not a schema', () => {
      expect(
        webhooksCalledFor({ group: '', version: 'v1', resource: 'secrets', namespace: NAMESPACE, operation: 'CREATE', labels: { [SCHEMA_LABEL]: 'true' } }),
      ).toEqual([]);
    });
  });

  it('paths and probe paths are routes the server source defines', () => {
    const sources = sourceTexts(repoFile('src'));
    const paths = new Set<string>([
      ...allWebhooks.map(({ webhook }) => webhook.clientConfig.service.path as string),
      container.readinessProbe.httpGet.path as string,
      container.livenessProbe.httpGet.path as string,
    ]);
    for (const path of paths) {
      expect(sources.some((text) => text.includes(`'${path}'`)), `no '${path}' literal in src/`).toBe(true);
    }
  });
});

function sourceTexts(dir: string): string[] {
  const texts: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) texts.push(...sourceTexts(path));
    else if (entry.name.endsWith('.ts')) texts.push(readFileSync(path, 'utf8'));
  }
  return texts;
}

describe('Service and Deployment', () => {
  const podLabels = deployment.spec.template.metadata.labels as Record<string, string>;

  it('agree on labels: Service and Deployment selectors select the pod template', () => {
    expect(podLabels).toMatchObject(COMMON_LABELS);
    expect(Object.keys(service.spec.selector).length).toBeGreaterThan(0);
    expect(selectorMatches({ matchLabels: service.spec.selector }, podLabels)).toBe(true);
    expect(selectorMatches(deployment.spec.selector, podLabels)).toBe(true);
  });

  it('agree on ports: Service 443 -> named https container port, metrics 9090', () => {
    const ports = service.spec.ports as Manifest[];
    const https = ports.find((p) => p.name === 'https');
    expect(https?.port).toBe(443);
    for (const port of ports) {
      expect(typeof port.targetPort, 'targetPort by name, so the container port can change').toBe('string');
      expect(() => containerPort(port.targetPort as string)).not.toThrow();
    }
    expect(ports.find((p) => p.name === 'metrics')?.port).toBe(9090);
    expect(containerPort('metrics')).toBe(9090);
  });

  it('tells the server the ports it declares', () => {
    expect(Number(envValue('BACKEND_WEBHOOK_PORT'))).toBe(containerPort('https'));
    expect(Number(envValue('BACKEND_WEBHOOK_METRICS_PORT'))).toBe(containerPort('metrics'));
  });

  it('only sets flags the server has (env BACKEND_WEBHOOK_* and args)', () => {
    const cliSource = sourceTexts(repoFile('src/cli')).join('\n');
    const envFlags = (container.env as Manifest[])
      .map((e) => e.name as string)
      .filter((name) => name.startsWith('BACKEND_WEBHOOK_'))
      .map((name) => `--${name.slice('BACKEND_WEBHOOK_'.length).toLowerCase().replace(/_/g, '-')}`);
    const argFlags = (container.args as string[]).filter((a) => a.startsWith('--')).map((a) => a.split('=')[0] as string);
    for (const flag of [...envFlags, ...argFlags]) {
      expect(cliSource, `serve has no ${flag}`).toMatch(new RegExp(`['"]${flag}[ '"]`));
    }
  });

  it('runs serve with the schema source kubernetes and the certificate Secret mounted read-only', () => {
    expect(container.args[0]).toBe('serve');
    const args = container.args as string[];
    const certDirIndex = args.indexOf('--cert-dir');
    expect(args[certDirIndex + 1]).toBe(CERT_MOUNT);
    expect(envValue('BACKEND_WEBHOOK_SCHEMA_SOURCE')).toBe('kubernetes');
    const mount = (container.volumeMounts as Manifest[]).find((m) => m.mountPath === CERT_MOUNT);
    expect(mount?.readOnly).toBe(true);
    const volume = (podSpec.volumes as Manifest[]).find((v) => v.name === mount?.name);
    expect(volume?.secret?.secretName).toBe('backend-webhook-tls');
    for (const m of container.volumeMounts as Manifest[]) {
      expect((podSpec.volumes as Manifest[]).map((v) => v.name)).toContain(m.name);
    }
  });

  it('runs two replicas spread across nodes, never fewer than two during a rollout', () => {
    expect(deployment.spec.replicas).toBe(2);
    expect(deployment.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
    const terms = [
      ...((podSpec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution ?? []) as Manifest[]),
      ...((podSpec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution ?? []) as Manifest[]).map(
        (t) => t.podAffinityTerm as Manifest,
      ),
    ];
    const hostnameTerm = terms.find((t) => t.topologyKey === 'kubernetes.io/hostname');
    expect(hostnameTerm).toBeDefined();
    expect(selectorMatches(hostnameTerm?.labelSelector, podLabels)).toBe(true);
  });

  it('probes readiness on /readyz and liveness on /healthz over the HTTPS port', () => {
    for (const [probe, path] of [
      [container.readinessProbe, '/readyz'],
      [container.livenessProbe, '/healthz'],
    ] as const) {
      expect(probe.httpGet.scheme).toBe('HTTPS');
      expect(probe.httpGet.path).toBe(path);
      expect(probe.httpGet.port === 'https' || probe.httpGet.port === containerPort('https')).toBe(true);
    }
  });

  it('has resource requests and limits', () => {
    for (const kind of ['requests', 'limits']) {
      expect(container.resources[kind].cpu, kind).toBeDefined();
      expect(container.resources[kind].memory, kind).toBeDefined();
    }
  });

  it('runs non-root, read-only, without privileges', () => {
    const pod = podSpec.securityContext as Manifest;
    const ctx = container.securityContext as Manifest;
    expect(pod.runAsNonRoot).toBe(true);
    expect(pod.seccompProfile.type).toBe('RuntimeDefault');
    expect(ctx.runAsNonRoot).toBe(true);
    expect(ctx.runAsUser ?? pod.runAsUser).toBe(65532);
    expect(ctx.readOnlyRootFilesystem).toBe(true);
    expect(ctx.allowPrivilegeEscalation).toBe(false);
    expect(ctx.privileged ?? false).toBe(false);
    expect(ctx.capabilities.drop).toEqual(['ALL']);
    expect(ctx.capabilities.add).toBeUndefined();
    expect((ctx.seccompProfile ?? pod.seccompProfile).type).toBe('RuntimeDefault');
    expect(podSpec.hostNetwork ?? false).toBe(false);
  });

  it('uses its ServiceAccount token (it watches ConfigMaps)', () => {
    const serviceAccount = findOne(manifests, 'ServiceAccount', NAME);
    expect(podSpec.serviceAccountName).toBe(serviceAccount.metadata.name);
    expect(podSpec.automountServiceAccountToken).toBe(true);
  });

  it('gives the server time to drain before the kubelet kills it', () => {
    const delay = Number(envValue('BACKEND_WEBHOOK_SHUTDOWN_DELAY_SECONDS') ?? 10);
    const grace = Number(envValue('BACKEND_WEBHOOK_SHUTDOWN_GRACE_SECONDS') ?? 30);
    expect(podSpec.terminationGracePeriodSeconds).toBeGreaterThan(delay + grace);
  });
});

describe('PodDisruptionBudget', () => {
  it('keeps one of the Deployment pods through voluntary disruptions', () => {
    const pdb = findOne(manifests, 'PodDisruptionBudget', NAME);
    expect(pdb.spec.minAvailable).toBe(1);
    expect(pdb.spec.minAvailable).toBeLessThan(deployment.spec.replicas);
    expect(selectorMatches(pdb.spec.selector, deployment.spec.template.metadata.labels)).toBe(true);
  });
});

describe('RBAC', () => {
  const rules = (doc: Manifest): Manifest[] => (doc.rules ?? []) as Manifest[];
  const roles = findAll(manifests, 'Role');
  const clusterRoles = findAll(manifests, 'ClusterRole');

  it('has no wildcards and never touches Secrets', () => {
    for (const role of [...roles, ...clusterRoles]) {
      for (const rule of rules(role)) {
        for (const field of ['apiGroups', 'resources', 'verbs', 'resourceNames']) {
          expect(rule[field] ?? [], `${role.kind} ${field}`).not.toContain('*');
        }
        expect(rule.resources).not.toContain('secrets');
        expect(rule.nonResourceURLs).toBeUndefined();
      }
    }
  });

  it('reads ConfigMaps only through a Role in the webhook namespace, read-only', () => {
    expect(roles.map((r) => r.metadata.namespace)).toEqual([NAMESPACE, NAMESPACE]);
    expect(rules(findOne(manifests, 'Role', NAME))).toEqual([
      { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch'] },
    ]);
  });

  it('the audit writer Lease: create, and get/update of that one Lease only', () => {
    expect(rules(findOne(manifests, 'Role', `${NAME}-audit-lease`))).toEqual([
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: [`${NAME}-audit`], verbs: ['get', 'update'] },
    ]);
  });

  it('the audit: list/watch of the served kinds only, and its own reports', () => {
    expect(rules(findOne(manifests, 'ClusterRole', `${NAME}-audit`))).toEqual([
      // The served kinds, as the kinds registry lists them.
      ...all().map((u) => ({ apiGroups: [u.group], resources: u.kinds.map((k) => k.resource), verbs: ['get', 'list', 'watch'] })),
      { apiGroups: ['wgpolicyk8s.io'], resources: ['policyreports'], verbs: ['get', 'list', 'create', 'update', 'delete'] },
      { apiGroups: ['openreports.io'], resources: ['reports'], verbs: ['get', 'list', 'create', 'update', 'delete'] },
    ]);
  });

  it('cluster-wide: only get/patch on our own two webhook configurations, and reading namespaces and ReferenceGrants', () => {
    expect(clusterRoles.map((r) => r.metadata.name).sort()).toEqual([NAME, `${NAME}-audit`, `${NAME}-namespace-reader`, `${NAME}-reference-grant-reader`]);
    // Policy namespace selectors need namespace labels: read-only, namespaces and nothing else.
    expect(rules(findOne(manifests, 'ClusterRole', `${NAME}-namespace-reader`))).toEqual([
      { apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'list', 'watch'] },
    ]);
    // Cross-namespace references need ReferenceGrants: read-only, referencegrants and nothing else.
    expect(rules(findOne(manifests, 'ClusterRole', `${NAME}-reference-grant-reader`))).toEqual([
      { apiGroups: ['gateway.networking.k8s.io'], resources: ['referencegrants'], verbs: ['get', 'list', 'watch'] },
    ]);
    const clusterRules = rules(findOne(manifests, 'ClusterRole', NAME));
    for (const rule of clusterRules) {
      expect(rule.apiGroups).toEqual(['admissionregistration.k8s.io']);
      expect([...(rule.resources as string[])].sort()).toEqual(
        ['mutatingwebhookconfigurations', 'validatingwebhookconfigurations'],
      );
      expect(rule.resourceNames).toEqual([validating.metadata.name]);
      expect(rule.resourceNames).toEqual([mutating.metadata.name]);
      expect([...(rule.verbs as string[])].sort()).toEqual(['get', 'patch']);
    }
    expect(JSON.stringify(clusterRules)).not.toContain('configmaps');
  });

  it('binds each role to our ServiceAccount and nothing else', () => {
    for (const [bindingKind, roleKind] of [
      ['RoleBinding', 'Role'],
      ['ClusterRoleBinding', 'ClusterRole'],
    ] as const) {
      for (const binding of findAll(manifests, bindingKind)) {
        expect(binding.roleRef.kind).toBe(roleKind);
        expect(() => findOne(manifests, roleKind, binding.roleRef.name)).not.toThrow();
        expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: NAME, namespace: NAMESPACE }]);
        if (bindingKind === 'RoleBinding') expect(binding.metadata.namespace).toBe(NAMESPACE);
      }
    }
  });
});

describe('cert-manager component (optional, not applied by default)', () => {
  const dir = join(MANIFEST_DIR, 'cert-manager');
  const component = readKustomization(dir);
  const componentDocs = (component.resources as string[]).flatMap((file) => readYamlDocuments(join(dir, file)));
  const patchDocs = (component.patches as Manifest[])
    .filter((p) => typeof p.path === 'string')
    .flatMap((p) => readYamlDocuments(join(dir, p.path as string)));

  it('is a kustomize Component whose files all exist and are listed', () => {
    expect(component.kind).toBe('Component');
    const referenced = [
      ...(component.resources as string[]),
      ...(component.patches as Manifest[]).map((p) => p.path as string | undefined).filter((p) => p !== undefined),
    ].sort();
    expect(referenced).toEqual(yamlFilesIn(dir).filter((f) => f !== 'kustomization.yaml'));
  });

  it('issues the Secret the Deployment mounts, for the Service DNS names', () => {
    const certificates = componentDocs.filter((d) => d.kind === 'Certificate' && d.spec.isCA !== true);
    expect(certificates.length).toBe(1);
    const certificate = certificates[0] as Manifest;
    const secretVolume = (podSpec.volumes as Manifest[]).find((v) => v.secret)?.secret;
    expect(certificate.spec.secretName).toBe(secretVolume?.secretName);
    expect(certificate.metadata.namespace).toBe(NAMESPACE);
    expect(certificate.spec.dnsNames).toContain(`${service.metadata.name}.${service.metadata.namespace}.svc`);
    const issuerNames = componentDocs.filter((d) => d.kind === 'Issuer').map((d) => d.metadata.name);
    expect(issuerNames).toContain(certificate.spec.issuerRef.name);
  });

  it('annotates both webhook configurations for CA injection from that Certificate', () => {
    const certificate = componentDocs.find((d) => d.kind === 'Certificate' && d.spec.isCA !== true) as Manifest;
    const expected = `${certificate.metadata.namespace}/${certificate.metadata.name}`;
    for (const config of [validating, mutating]) {
      const patch = patchDocs.find((d) => d.kind === config.kind && d.metadata.name === config.metadata.name);
      expect(patch?.metadata.annotations['cert-manager.io/inject-ca-from']).toBe(expected);
    }
  });

  it('turns off the server-side CA injection so that two writers do not fight', () => {
    const patch = patchDocs.find((d) => d.kind === 'Deployment' && d.metadata.name === NAME);
    const patchedContainer = findContainer(patch?.spec.template.spec, container.name as string);
    expect(patchedContainer.env).toContainEqual({ name: 'BACKEND_WEBHOOK_INJECT_CA', value: 'false' });
  });
});
