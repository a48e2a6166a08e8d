/**
 * The optional monitoring kit (manifests/monitoring), the autoscaling Component (manifests/autoscaling)
 * and the example overlay that combines them with the base: they agree with the base's names, ports
 * and labels, and `kubectl kustomize` renders them (the real kustomize, in kubectl).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { describeWithTool, runTool } from '../support/external-tool.js';
import { MANIFEST_DIR, type Manifest, REPO_ROOT, findOne, loadManifests, readKustomization, readYamlDocuments, selectorMatches, yamlFilesIn } from './manifest-loader.js';

const NAMESPACE = 'backend-webhook-system';
const base = loadManifests();
const service = findOne(base, 'Service', 'backend-webhook');
const deployment = findOne(base, 'Deployment', 'backend-webhook');
const pdb = findOne(base, 'PodDisruptionBudget', 'backend-webhook');
const container = (deployment.spec.template.spec.containers as Manifest[]).find((c) => c.name === 'webhook') as Manifest;
const monitoringDir = join(MANIFEST_DIR, 'monitoring');
const autoscalingDir = join(MANIFEST_DIR, 'autoscaling');
const serviceMonitor = readYamlDocuments(join(monitoringDir, 'servicemonitor.yaml'))[0] as Manifest;
const hpa = readYamlDocuments(join(autoscalingDir, 'hpa.yaml'))[0] as Manifest;

describe('manifests/monitoring', () => {
  const kustomization = readKustomization(monitoringDir);

  it('is a Kustomization that lists every file of the directory', () => {
    expect(kustomization.kind).toBe('Kustomization');
    const listed = [...(kustomization.resources as string[]), ...(kustomization.configMapGenerator as Manifest[]).flatMap((g) => (g.files as string[]).map((f) => f.split('=').pop() as string))].sort();
    const files = [...yamlFilesIn(monitoringDir).filter((f) => f !== 'kustomization.yaml'), 'dashboard.json'].sort();
    expect(listed).toEqual(files);
  });

  it('the ServiceMonitor scrapes the Service port that leads to the metrics port the server listens on', () => {
    expect(serviceMonitor.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(selectorMatches(serviceMonitor.spec.selector, service.metadata.labels)).toBe(true);
    // Without a namespaceSelector the operator looks in the ServiceMonitor's own namespace.
    expect(serviceMonitor.spec.namespaceSelector).toBeUndefined();
    expect(serviceMonitor.metadata.namespace).toBe(service.metadata.namespace);
    const [endpoint] = serviceMonitor.spec.endpoints as Manifest[];
    const servicePort = (service.spec.ports as Manifest[]).find((p) => p.name === endpoint!.port);
    expect(servicePort, `no Service port named ${endpoint!.port}`).toBeDefined();
    const containerPort = (container.ports as Manifest[]).find((p) => p.name === servicePort!.targetPort);
    const metricsPortEnv = (container.env as Manifest[]).find((e) => e.name === 'BACKEND_WEBHOOK_METRICS_PORT')?.value;
    expect(String(containerPort?.containerPort)).toBe(metricsPortEnv);
    expect(endpoint!.path).toBe('/metrics');
    expect(endpoint!.scheme).toBe('http');
    // Our `endpoint` label must survive the operator's target label of the same name.
    expect(endpoint!.honorLabels).toBe(true);
  });
});

describe('manifests/autoscaling', () => {
  const component = readKustomization(autoscalingDir);

  it('is a kustomize Component whose files are all listed', () => {
    expect(component.kind).toBe('Component');
    expect(component.resources).toEqual(yamlFilesIn(autoscalingDir).filter((f) => f !== 'kustomization.yaml'));
  });

  it('scales the webhook Deployment on CPU between 2 and 10 replicas', () => {
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.metadata.namespace).toBe(NAMESPACE);
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata.name });
    expect(hpa.spec.minReplicas).toBe(2);
    expect(hpa.spec.maxReplicas).toBe(10);
    expect(hpa.spec.metrics).toEqual([{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: expect.any(Number) } } }]);
    // Never down to what the PDB must keep, so a node drain can always evict one pod.
    expect(hpa.spec.minReplicas).toBeGreaterThan(pdb.spec.minAvailable);
  });

  it('has what CPU utilization is measured against: a CPU request on the container', () => {
    expect(container.resources?.requests?.cpu).toBeDefined();
  });
});

function render(dir: string): Manifest[] {
  const result = runTool('kubectl', ['kustomize', dir]);
  if (result.code !== 0) throw new Error(`kubectl kustomize ${dir} failed: ${result.stderr}`);
  return parseAllDocuments(result.stdout).map((d) => d.toJS() as Manifest);
}

const of = (docs: Manifest[], kind: string): Manifest[] => docs.filter((d) => d.kind === kind);

describeWithTool(
  'kubectl',
  'rendered with kubectl kustomize',
  () => {
    it('`kubectl kustomize manifests/monitoring` renders the ServiceMonitor, the PrometheusRule and the dashboard ConfigMap', () => {
      const docs = render(monitoringDir);
      expect(docs.map((d) => d.kind).sort()).toEqual(['ConfigMap', 'PrometheusRule', 'ServiceMonitor']);
      for (const doc of docs) expect(doc.metadata.namespace).toBe(NAMESPACE);
      const configMap = of(docs, 'ConfigMap')[0]!;
      expect(configMap.metadata.labels.grafana_dashboard).toBe('1');
      // Generated from dashboard.json, byte for byte: one source.
      expect(configMap.data['backend-webhook.json']).toBe(readFileSync(join(monitoringDir, 'dashboard.json'), 'utf8'));
    });

    it('the example overlay renders the base with monitoring and autoscaling, and the Deployment leaves replicas to the HPA', () => {
      const docs = render(join(REPO_ROOT, 'examples/production'));
      const kinds = docs.map((d) => d.kind);
      for (const kind of ['Deployment', 'Service', 'HorizontalPodAutoscaler', 'ServiceMonitor', 'PrometheusRule', 'ConfigMap', 'ValidatingWebhookConfiguration']) expect(kinds).toContain(kind);
      const rendered = of(docs, 'Deployment')[0]!;
      expect(rendered.spec.replicas).toBeUndefined();
      expect(of(docs, 'HorizontalPodAutoscaler')[0]!.spec.scaleTargetRef.name).toBe(rendered.metadata.name);
      // The base alone still fixes two replicas.
      expect(of(render(MANIFEST_DIR), 'Deployment')[0]!.spec.replicas).toBe(2);
    });
  },
  ['version', '--client'],
);
