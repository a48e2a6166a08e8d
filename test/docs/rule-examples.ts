/**
 * What the webhook actually says, as kubectl prints it, for every case of the rules tables: each
 * case is decoded from an AdmissionReview and judged by the processors the HTTPS server runs
 * (validateRequest / reviewConfigMapRequest). docs/rules.md is checked against these lines.
 */
import { reviewConfigMapRequest } from '../../src/admission/configmap-handler.js';
import { validateRequest } from '../../src/admission/handlers.js';
import { decodeReview, type Verdict } from '../../src/admission/review.js';
import { DEFAULT_VALIDATION_OPTIONS } from '../../src/backend/options.js';
import { extensionSchemaReviewer } from '../../src/schemas/configmap.js';
import { BACKEND_CASES, EXTENSION_SCHEMAS, GUARDRAIL, makeBackend, type BackendCase } from '../backend/cases.js';
import { KIND_CASES } from '../kinds/cases.js';
import { review, reviewOf } from '../support/reviews.js';

export interface RenderedLine {
  /** `* field: message` (a cause of a denial) or `Warning: text`. */
  readonly line: string;
  readonly verdict: 'refused' | 'warned';
  /** The field the line is reported at ('' when it names none). */
  readonly field: string;
  /** The cause's reason (FieldValueInvalid, ...); 'Warning' for warnings. */
  readonly reason: string;
  /** The table case that produced it. */
  readonly source: string;
  /** The kind judged (Backend, XBackendDestination, ConfigMap, ...): each has its section in docs/rules.md. */
  readonly kind: string;
}

/** kubectl prints each cause of an Invalid status as `* <field>: <message>`, each warning as `Warning: <text>`. */
export function kubectlLines(verdict: Verdict, source: string, kind: string): RenderedLine[] {
  const out: RenderedLine[] = [];
  for (const cause of verdict.status?.details?.causes ?? []) {
    const field = cause.field ?? '';
    out.push({ line: field ? `* ${field}: ${cause.message}` : `* ${cause.message}`, verdict: 'refused', field, reason: cause.reason ?? '', source, kind });
  }
  for (const warning of verdict.warnings ?? []) {
    const m = /^([A-Za-z][\w.[\]/-]*): /.exec(warning);
    const ratcheted = /^unchanged, so allowed: ([^:]+): /.exec(warning);
    out.push({ line: `Warning: ${warning}`, verdict: 'warned', field: ratcheted?.[1] ?? m?.[1] ?? '', reason: 'Warning', source, kind });
  }
  return out;
}

/**
 * Two bounds the table cannot hold (its HTTPS test names every expected cause, and these are about
 * how many there are): more than 64 extensions, and more than 100 causes in one denial.
 */
export const BOUNDS_CASES: BackendCase[] = [
  {
    name: 'bounds: 65 extensions',
    object: makeBackend({ destination: { type: 'Service', service: { name: 'llm' }, ports: [{ number: 443, protocol: 'HTTP' }] }, extensions: Array.from({ length: 65 }, (_, i) => ({ name: `e${i}`, type: GUARDRAIL })) }),
    expectErrors: [{ field: 'spec.extensions', type: 'FieldValueTooMany' }],
  },
  {
    name: 'bounds: 128 problems in one object',
    object: makeBackend({ destination: { type: 'Service', service: { name: 'llm' }, ports: Array.from({ length: 64 }, () => ({ number: 0, protocol: 'UDP' })) } }),
    expectErrors: [],
  },
];

/** Every line the Backend rules table produces, judged through validateRequest. */
export function backendCaseLines(): RenderedLine[] {
  return [...BACKEND_CASES, ...BOUNDS_CASES].flatMap((c) => {
    const body = review(c.object, { operation: c.operation ?? 'CREATE', oldObject: c.oldObject, kind: (c.object as { kind?: string }).kind });
    const { request } = decodeReview(body);
    const verdict = validateRequest(request, { schemas: EXTENSION_SCHEMAS, options: { ...DEFAULT_VALIDATION_OPTIONS, ...(c.options ?? {}) } });
    return kubectlLines(verdict, c.name, String((c.object as { kind?: unknown }).kind ?? 'Backend'));
  });
}

/** Every line the XBackend and BackendTLSPolicy tables (test/kinds/cases.ts) produce, judged through validateRequest. */
export function kindCaseLines(): RenderedLine[] {
  return KIND_CASES.flatMap((c) => {
    const { request } = decodeReview(reviewOf(c.object, { operation: c.operation ?? 'CREATE', oldObject: c.oldObject }));
    const verdict = validateRequest(request, { schemas: EXTENSION_SCHEMAS, options: { ...DEFAULT_VALIDATION_OPTIONS, ...(c.options ?? {}) } });
    return kubectlLines(verdict, c.name, String((c.object as { kind?: unknown }).kind));
  });
}

// ---------------------------------------------------------------- extension-schema ConfigMaps

const TRUSTED = 'backend-webhook-system';
const SCHEMA_LABEL = 'ainetworking.prototype.x-k8s.io/extension-schema';

function schemaConfigMap(data: Record<string, string>, namespace = TRUSTED): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'credential-injector', namespace, labels: { [SCHEMA_LABEL]: 'true' } }, data };
}

const GOOD_SCHEMA = JSON.stringify({ $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', properties: { header: { type: 'string' } } });
const TYPE = 'gateway.networking.k8s.io/CredentialInjector:v1';

/** Extension-schema ConfigMaps as a platform team applies them: one per rule of the ConfigMap webhook. */
export const CONFIGMAP_CASES: Array<{ name: string; object: Record<string, unknown> }> = [
  { name: 'configmap: valid', object: schemaConfigMap({ type: TYPE, 'schema.json': GOOD_SCHEMA }) },
  { name: 'configmap: without data.type', object: schemaConfigMap({ 'schema.json': GOOD_SCHEMA }) },
  { name: 'configmap: malformed data.type', object: schemaConfigMap({ type: 'CredentialInjector', 'schema.json': GOOD_SCHEMA }) },
  { name: 'configmap: without schema.json', object: schemaConfigMap({ type: TYPE }) },
  { name: 'configmap: schema.json not an object', object: schemaConfigMap({ type: TYPE, 'schema.json': '["a"]' }) },
  { name: 'configmap: a pattern RE2 cannot compile', object: schemaConfigMap({ type: TYPE, 'schema.json': JSON.stringify({ type: 'object', properties: { a: { type: 'string', pattern: '^(a)\\1$' } } }) }) },
  { name: 'configmap: an $async schema', object: schemaConfigMap({ type: TYPE, 'schema.json': JSON.stringify({ $async: true, type: 'object' }) }) },
  { name: 'configmap: description too long', object: schemaConfigMap({ type: TYPE, 'schema.json': GOOD_SCHEMA, description: 'd'.repeat(1025) }) },
  { name: 'configmap: in an untrusted namespace', object: schemaConfigMap({ type: TYPE, 'schema.json': GOOD_SCHEMA }, 'team-a') },
];

/** Every line the ConfigMap webhook produces for CONFIGMAP_CASES, judged through reviewConfigMapRequest. */
export function configMapCaseLines(): RenderedLine[] {
  return CONFIGMAP_CASES.flatMap((c) => {
    const meta = c.object['metadata'] as { name: string; namespace: string };
    const body = review(c.object);
    body.request.kind = { group: '', version: 'v1', kind: 'ConfigMap' };
    body.request.resource = { group: '', version: 'v1', resource: 'configmaps' };
    body.request.name = meta.name;
    body.request.namespace = meta.namespace;
    const { request } = decodeReview(body);
    const verdict = reviewConfigMapRequest(request, { reviewers: [extensionSchemaReviewer], isTrustedNamespace: (ns) => ns === TRUSTED });
    // The one warning without a field is about the ConfigMap's namespace.
    return kubectlLines(verdict, c.name, 'ConfigMap').map((l) => (l.verdict === 'warned' && l.field === '' && l.line.startsWith('Warning: namespace ') ? { ...l, field: 'metadata.namespace' } : l));
  });
}
