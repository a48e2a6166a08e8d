/**
 * The CRDs: right names, a structural schema, the same fields as schemas/backend.schema.json, and
 * nothing that would let the API server refuse an object before the webhook can explain why.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type Manifest, findAll, loadManifests, repoFile, repoFileExists } from './manifest-loader.js';

const GROUP = 'ainetworking.prototype.x-k8s.io';
const JSON_SCHEMA_FILE = 'schemas/backend.schema.json';
const EXPECTED_CRDS = [
  { kind: 'Backend', plural: 'backends', singular: 'backend', listKind: 'BackendList' },
  {
    kind: 'XBackendDestination',
    plural: 'xbackenddestinations',
    singular: 'xbackenddestination',
    listKind: 'XBackendDestinationList',
  },
];
// Subtrees whose content is free-form on purpose (judged elsewhere, or not at all).
const OPAQUE_PATHS = new Set(['metadata', 'status', 'spec.extensions[].rawConfig']);
// Value constraints that would make the API server refuse (or silently default) a field before the
// webhook judges it with a precise message.
const BLOCKING_KEYWORDS = [
  'enum',
  'pattern',
  'format',
  'required',
  'default',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minLength',
  'maxLength',
  'minItems',
  'maxItems',
  'uniqueItems',
  'minProperties',
  'maxProperties',
  'oneOf',
  'anyOf',
  'allOf',
  'not',
  'x-kubernetes-validations',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
];

const crds = findAll(loadManifests(), 'CustomResourceDefinition');

function crdFor(kind: string): Manifest {
  const crd = crds.find((c) => c.spec?.names?.kind === kind);
  if (!crd) throw new Error(`no CRD for ${kind}`);
  return crd;
}

function openApiSchema(crd: Manifest): Manifest {
  return crd.spec.versions[0].schema.openAPIV3Schema as Manifest;
}

/** Violations of the apiextensions structural-schema rules that apply to a schema like ours. */
function structuralProblems(node: Manifest, path: string): string[] {
  const problems: string[] = [];
  const preserve = node['x-kubernetes-preserve-unknown-fields'] === true;
  if ('$ref' in node) problems.push(`${path}: $ref is not allowed`);
  for (const junctor of ['allOf', 'anyOf', 'oneOf', 'not']) {
    if (junctor in node) problems.push(`${path}: ${junctor} (keep the schema plain)`);
  }
  if (typeof node.type !== 'string' && !preserve && node['x-kubernetes-int-or-string'] !== true) {
    problems.push(`${path}: every node needs a type`);
  }
  if (node.type === 'array' && typeof node.items !== 'object') problems.push(`${path}: array without items`);
  if (node.properties && node.additionalProperties !== undefined) {
    problems.push(`${path}: properties and additionalProperties together`);
  }
  for (const [key, child] of Object.entries((node.properties ?? {}) as Record<string, Manifest>)) {
    problems.push(...structuralProblems(child, `${path}.${key}`));
  }
  if (typeof node.items === 'object') problems.push(...structuralProblems(node.items as Manifest, `${path}[]`));
  if (typeof node.additionalProperties === 'object') {
    problems.push(...structuralProblems(node.additionalProperties as Manifest, `${path}{}`));
  }
  return problems;
}

/**
 * List bounds the API server may enforce itself: a CRD `maxItems` equal to the webhook schema's at
 * the same path refuses exactly what the webhook refuses, with the same "Too many" reason, and
 * keeps objects bounded even when the webhook is not called.
 */
type SharedBounds = Map<string, Record<string, unknown>>;

function blockingConstraints(node: Manifest, path: string, shared: SharedBounds = new Map()): string[] {
  const found = BLOCKING_KEYWORDS.filter((k) => k in node && !(k === 'maxItems' && shared.get(path)?.maxItems === node[k])).map((k) => `${path}: ${k}`);
  for (const [key, child] of Object.entries((node.properties ?? {}) as Record<string, Manifest>)) {
    found.push(...blockingConstraints(child, `${path}.${key}`, shared));
  }
  if (typeof node.items === 'object') found.push(...blockingConstraints(node.items as Manifest, `${path}[]`, shared));
  return found;
}

/** path -> JSON types, for a JSON Schema (local $refs resolved, subschema combinators merged). */
function jsonSchemaPaths(root: Manifest, nodes?: SharedBounds): Map<string, Set<string>> {
  const paths = new Map<string, Set<string>>();
  const resolve = (node: Manifest): Manifest => {
    let current = node;
    for (let hops = 0; typeof current.$ref === 'string'; hops++) {
      const ref = current.$ref as string;
      if (!ref.startsWith('#/') || hops > 32) throw new Error(`unsupported $ref ${ref}`);
      let target: unknown = root;
      for (const part of ref.slice(2).split('/')) {
        target = (target as Manifest)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
      }
      if (typeof target !== 'object' || target === null) throw new Error(`dangling $ref ${ref}`);
      current = { ...(target as Manifest), ...Object.fromEntries(Object.entries(current).filter(([k]) => k !== '$ref')) };
    }
    return current;
  };
  const walk = (raw: Manifest, path: string): void => {
    const node = resolve(raw);
    nodes?.set(path, node);
    const types = paths.get(path) ?? new Set<string>();
    if (typeof node.type === 'string') types.add(node.type);
    else if (Array.isArray(node.type)) for (const t of node.type as string[]) types.add(t);
    else if (node.properties) types.add('object');
    else if (node.items) types.add('array');
    paths.set(path, types);
    for (const key of ['allOf', 'anyOf', 'oneOf']) {
      for (const sub of (node[key] ?? []) as Manifest[]) walk(sub, path);
    }
    for (const key of ['if', 'then', 'else']) if (typeof node[key] === 'object') walk(node[key] as Manifest, path);
    if (OPAQUE_PATHS.has(path)) return;
    for (const [key, child] of Object.entries((node.properties ?? {}) as Record<string, Manifest>)) {
      walk(child, path === '' ? key : `${path}.${key}`);
    }
    if (typeof node.items === 'object' && !Array.isArray(node.items)) walk(node.items as Manifest, `${path}[]`);
  };
  walk(root, '');
  paths.delete('');
  // Conditional subschemas may mention a property without a type; typed mentions decide.
  return paths;
}

/** path -> CRD OpenAPI node. */
function crdPaths(root: Manifest): Map<string, Manifest> {
  const paths = new Map<string, Manifest>();
  const walk = (node: Manifest, path: string): void => {
    if (path !== '') paths.set(path, node);
    if (OPAQUE_PATHS.has(path)) return;
    for (const [key, child] of Object.entries((node.properties ?? {}) as Record<string, Manifest>)) {
      walk(child, path === '' ? key : `${path}.${key}`);
    }
    if (typeof node.items === 'object') walk(node.items as Manifest, `${path}[]`);
  };
  walk(root, '');
  return paths;
}

/** Does a CRD node accept every value the webhook schema types allow? */
function crdAccepts(crdNode: Manifest, jsonTypes: Set<string>): boolean {
  if (crdNode['x-kubernetes-preserve-unknown-fields'] === true && (jsonTypes.size === 0 || crdNode.type === undefined)) {
    return true;
  }
  if (jsonTypes.size === 0) return false; // untyped in the webhook schema needs preserve-unknown-fields
  return [...jsonTypes].every(
    (t) => t === crdNode.type || (crdNode.type === 'number' && t === 'integer'),
  );
}

describe.each(EXPECTED_CRDS)('CRD $kind', (expected) => {
  const crd = crdFor(expected.kind);

  it('has the right group, names, scope and single served+stored version with status', () => {
    expect(crd.metadata.name).toBe(`${expected.plural}.${GROUP}`);
    expect(crd.spec.group).toBe(GROUP);
    expect(crd.spec.scope).toBe('Namespaced');
    expect(crd.spec.names).toMatchObject(expected);
    expect(crd.spec.versions).toHaveLength(1);
    const [version] = crd.spec.versions as Manifest[];
    expect(version).toMatchObject({ name: 'v0alpha0', served: true, storage: true });
    expect(version?.subresources).toEqual({ status: {} });
  });

  it('has a structural schema', () => {
    const schema = openApiSchema(crd);
    expect(schema.type).toBe('object');
    expect(schema.properties.apiVersion.type).toBe('string');
    expect(schema.properties.kind.type).toBe('string');
    expect(schema.properties.metadata).toEqual({ type: 'object' });
    expect(schema.properties.spec.type).toBe('object');
    expect(structuralProblems(schema, '')).toEqual([]);
  });

  it('blocks nothing the webhook judges: no enum, pattern, format, bounds, required or defaults in spec', () => {
    const spec = openApiSchema(crd).properties.spec as Manifest;
    const webhook: SharedBounds = new Map();
    jsonSchemaPaths(JSON.parse(readFileSync(repoFile(JSON_SCHEMA_FILE), 'utf8')) as Manifest, webhook);
    expect(blockingConstraints(spec, 'spec', webhook)).toEqual([]);
  });

  it('bounds subjectAltNames like the webhook schema (16)', () => {
    const tls = openApiSchema(crd).properties.spec.properties.destination.properties.ports.items.properties.tls as Manifest;
    expect(tls.properties.subjectAltNames.maxItems).toBe(16);
  });

  it('bounds spec.extensions at 64 items, exactly as the webhook JSON Schema does', () => {
    const extensions = openApiSchema(crd).properties.spec.properties.extensions as Manifest;
    const webhook = JSON.parse(readFileSync(repoFile(JSON_SCHEMA_FILE), 'utf8')) as Manifest;
    expect(extensions.maxItems).toBe(64);
    expect(webhook.$defs.spec.properties.extensions.maxItems).toBe(extensions.maxItems);
  });

  it('keeps rawConfig and status open', () => {
    const schema = openApiSchema(crd);
    const rawConfig = schema.properties.spec.properties.extensions.items.properties.rawConfig as Manifest;
    expect(rawConfig).toMatchObject({ type: 'object', 'x-kubernetes-preserve-unknown-fields': true });
    expect(schema.properties.status['x-kubernetes-preserve-unknown-fields']).toBe(true);
  });
});

describe('CRDs and the webhook JSON Schema', () => {
  it('both CRDs describe the same object', () => {
    expect(openApiSchema(crdFor('XBackendDestination'))).toEqual(openApiSchema(crdFor('Backend')));
  });

  it(`${JSON_SCHEMA_FILE} exists (the CRD consistency checks below need it)`, () => {
    expect(repoFileExists(JSON_SCHEMA_FILE), `${JSON_SCHEMA_FILE} is missing: the CRDs cannot be checked against it`).toBe(true);
  });

  describe.each(EXPECTED_CRDS)('$kind CRD', ({ kind }) => {
    const loadJsonPaths = (): Map<string, Set<string>> => {
      if (!repoFileExists(JSON_SCHEMA_FILE)) throw new Error(`${JSON_SCHEMA_FILE} is missing`);
      return jsonSchemaPaths(JSON.parse(readFileSync(repoFile(JSON_SCHEMA_FILE), 'utf8')) as Manifest);
    };

    it('has every field of the webhook schema, with a compatible type', () => {
      const jsonPaths = loadJsonPaths();
      const crd = crdPaths(openApiSchema(crdFor(kind)));
      expect([...jsonPaths.keys()].some((p) => p.startsWith('spec.destination.ports[]'))).toBe(true);
      const problems: string[] = [];
      for (const [path, types] of jsonPaths) {
        const node = crd.get(path);
        if (!node) problems.push(`${path}: missing from the CRD`);
        else if (!crdAccepts(node, types)) {
          problems.push(`${path}: CRD type ${String(node.type)} does not accept ${[...types].join('|') || 'any'}`);
        }
      }
      expect(problems).toEqual([]);
    });

    it('has no field the webhook schema lacks (the webhook would refuse it as unknown)', () => {
      const jsonPaths = loadJsonPaths();
      const extra = [...crdPaths(openApiSchema(crdFor(kind))).keys()].filter((p) => !jsonPaths.has(p));
      expect(extra).toEqual([]);
    });
  });
});
