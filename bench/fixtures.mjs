// Objects and schema ConfigMaps for the benchmark: a typical Backend (~1.5 KB, two ports, one
// extension with a registered schema), a ~1 MiB Backend (many extensions with large configs), and a
// directory of N generated extension-schema ConfigMaps.
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';

const GROUP = 'ainetworking.prototype.x-k8s.io';
const VERSION = 'v0alpha0';
export const NAMESPACE = 'backend-webhook-system';
export const ROUTE_POLICY_TYPE = 'bench.example.com/RoutePolicy:v1';

/** A realistic, moderately strict schema: nested objects, patterns, enums, bounds. */
export function routePolicySchema(variant = 0) {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    type: 'object',
    required: ['rules'],
    additionalProperties: false,
    properties: {
      description: { type: 'string', maxLength: 1024 },
      [`mode${variant ? variant : ''}`]: { enum: ['enforce', 'audit', 'off'] },
      rules: {
        type: 'array',
        maxItems: 10000,
        items: {
          type: 'object',
          required: ['name', 'match'],
          additionalProperties: false,
          properties: {
            name: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$' },
            match: {
              type: 'object',
              additionalProperties: false,
              properties: {
                pathPrefix: { type: 'string', pattern: '^/[^?#]*$', maxLength: 1024 },
                methods: { type: 'array', uniqueItems: true, items: { enum: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] } },
                headers: { type: 'object', maxProperties: 32, additionalProperties: { type: 'string', maxLength: 4096 } },
              },
            },
            weight: { type: 'integer', minimum: 0, maximum: 1000 },
            timeoutSeconds: { type: 'number', exclusiveMinimum: 0, maximum: 3600 },
          },
        },
      },
    },
  };
}

function configMap(name, type, schema, description) {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace: NAMESPACE, labels: { 'ainetworking.prototype.x-k8s.io/extension-schema': 'true' } },
    data: { type, description, 'schema.json': JSON.stringify(schema, null, 2) },
  };
}

/** Writes the small registry: the route-policy schema only (ToolFilter etc. are not needed). */
export function writeSmallSchemaDir(dir) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'route-policy.yaml'), stringify(configMap('route-policy', ROUTE_POLICY_TYPE, routePolicySchema(), 'Routing rules')));
}

/** Writes `count` ConfigMaps, one file each, including the route-policy type the bench objects use. */
export function writeLargeSchemaDir(dir, count) {
  writeSmallSchemaDir(dir);
  for (let i = 1; i < count; i++) {
    const type = `ext${i}.bench.example.com/Generated${i}:v${1 + (i % 3)}`;
    writeFileSync(join(dir, `ext-${i}.yaml`), stringify(configMap(`ext-${i}`, type, routePolicySchema(i), `Generated schema ${i}`)));
  }
}

const BACKEND_GVR = { group: GROUP, version: VERSION, kind: 'Backend', resource: 'backends' };
export const XBACKEND_GVR = { group: 'gateway.networking.x-k8s.io', version: 'v1alpha1', kind: 'XBackend', resource: 'xbackends' };

export function review(object, operation = 'CREATE', gvr = BACKEND_GVR) {
  const { group, version, kind, resource } = gvr;
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: randomUUID(),
      kind: { group, version, kind },
      resource: { group, version, resource },
      requestKind: { group, version, kind },
      requestResource: { group, version, resource },
      name: object.metadata.name,
      namespace: object.metadata.namespace,
      operation,
      userInfo: { username: 'kubernetes-admin', uid: 'b9a3c0de-0000-4000-8000-000000000000', groups: ['system:masters', 'system:authenticated'] },
      object,
      oldObject: null,
      dryRun: false,
      options: { kind: 'CreateOptions', apiVersion: 'meta.k8s.io/v1', fieldManager: 'kubectl-client-side-apply', fieldValidation: 'Strict' },
    },
  };
}

const rule = (i, headerBytes) => ({
  name: `rule-${i}`,
  match: {
    pathPrefix: `/v1/models/${i}`,
    methods: ['GET', 'POST'],
    headers: { 'x-tenant': `tenant-${i}`, 'x-padding': 'p'.repeat(headerBytes) },
  },
  weight: i % 1000,
  timeoutSeconds: 30,
});

/** ~1.5 KB: two ports (one TLS set, one left for defaulting), one extension with a registered schema. */
export function typicalBackend() {
  return {
    apiVersion: `${GROUP}/${VERSION}`,
    kind: 'Backend',
    metadata: {
      name: 'openai',
      namespace: 'team-a',
      labels: { app: 'llm-gateway', team: 'team-a', 'app.kubernetes.io/managed-by': 'kubectl' },
      annotations: { 'owner.example.com/contact': 'team-a@example.com' },
    },
    spec: {
      destination: {
        type: 'Fqdn',
        fqdn: { hostname: 'api.openai.com' },
        ports: [
          { number: 443, protocol: 'HTTP', tls: { mode: 'Simple', sni: 'api.openai.com', caBundleRef: [{ group: '', kind: 'ConfigMap', name: 'public-cas' }] } },
          { number: 8443, protocol: 'HTTP2' },
        ],
      },
      extensions: [
        {
          name: 'routes',
          type: ROUTE_POLICY_TYPE,
          rawConfig: { description: 'Chat and embeddings only', mode: 'enforce', rules: [rule(1, 40), rule(2, 40), rule(3, 40), rule(4, 40)] },
        },
      ],
    },
  };
}

/** A Gateway API XBackend as a platform team writes one: external hostname, released port shape, no tls (defaulted). */
export function typicalXBackend() {
  return {
    apiVersion: `${XBACKEND_GVR.group}/${XBACKEND_GVR.version}`,
    kind: 'XBackend',
    metadata: { name: 'openai', namespace: 'team-a', labels: { app: 'llm-gateway', team: 'team-a' } },
    spec: { type: 'ExternalHostname', externalHostname: { hostname: 'api.openai.com' }, port: { name: 'https', port: 443 }, protocol: 'HTTP2' },
  };
}

/** About `bytes` of JSON: many extensions with large configs of the registered type. */
export function largeBackend(bytes = 1024 * 1024) {
  const object = typicalBackend();
  object.metadata.name = 'large';
  const extension = (i) => ({ name: `ext-${i}`, type: ROUTE_POLICY_TYPE, rawConfig: { description: `extension ${i}`, mode: 'audit', rules: Array.from({ length: 40 }, (_, j) => rule(j, 290)) } });
  const perExtension = JSON.stringify(extension(0)).length + 1;
  const count = Math.max(1, Math.ceil((bytes - JSON.stringify(object).length) / perExtension));
  const extensions = Array.from({ length: count }, (_, i) => extension(i));
  object.spec.extensions = extensions;
  return object;
}
