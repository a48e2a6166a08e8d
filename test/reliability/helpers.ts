/**
 * Shared pieces of the reliability suite: an in-process admission server for `app.inject` fuzzing,
 * compiled extension schemas, the response invariants every answer must hold, and a key-order
 * shuffler that works on JSON text (so `__proto__` keys survive untouched).
 */
import pino from 'pino';
import { expect } from 'vitest';
import type { App } from '../../src/admission/app.js';
import { buildAdmissionServer, type AdmissionServerOptions } from '../../src/admission/server.js';
import { DEFAULT_VALIDATION_OPTIONS } from '../../src/backend/options.js';
import { Metrics } from '../../src/observability/metrics.js';
import { compileExtensionSchema } from '../../src/schemas/compile.js';
import { MapSchemaLookup, type ExtensionSchema, type SchemaLookup } from '../../src/schemas/registry.js';
import { StaticSchemaRegistry } from '../support/static-registry.js';

export const REVIEW_VERSIONS = ['admission.k8s.io/v1', 'admission.k8s.io/v1beta1'] as const;

/** A compiled extension schema for `type`, as the registry would hold it. */
export function extensionSchema(type: string, schema: object, name = 'test-schema'): ExtensionSchema {
  const compiled = compileExtensionSchema(JSON.stringify(schema));
  if (!compiled.ok) throw new Error(`test schema for ${type} does not compile: ${compiled.error.message}`);
  return { type, origin: { kind: 'configmap', namespace: 'backend-webhook-system', name }, validate: compiled.validate };
}

export function lookupOf(...schemas: ExtensionSchema[]): SchemaLookup {
  return new MapSchemaLookup(new Map(schemas.map((s) => [s.type, s])));
}

export const TOOL_FILTER_TYPE = 'example.com/ToolFilter';
export const TOOL_FILTER_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  required: ['categories'],
  additionalProperties: false,
  properties: {
    categories: { type: 'array', minItems: 1, uniqueItems: true, items: { enum: ['search', 'fetch', 'filesystem', 'code', 'database'] } },
    denyTools: { type: 'array', items: { type: 'string', pattern: '^[a-zA-Z0-9_.-]{1,128}$' } },
  },
};

/**
 * An admission server for `app.inject` (no listener, no certificate needed). Logs are silenced:
 * fuzzing sends thousands of requests.
 */
export async function injectServer(overrides: Partial<AdmissionServerOptions> = {}): Promise<{ app: App; registry: StaticSchemaRegistry }> {
  const registry = (overrides.registry as StaticSchemaRegistry | undefined) ?? new StaticSchemaRegistry(lookupOf(extensionSchema(TOOL_FILTER_TYPE, TOOL_FILTER_SCHEMA)));
  const app = buildAdmissionServer({
    tls: {},
    logger: pino({ level: 'silent' }),
    metrics: new Metrics(),
    validation: DEFAULT_VALIDATION_OPTIONS,
    ...overrides,
    registry,
  });
  await app.ready();
  return { app, registry };
}

export interface Answer {
  status: number;
  text: string;
  json: any;
}

export async function inject(app: App, path: string, payload: string | Buffer, contentType = 'application/json'): Promise<Answer> {
  const res = await app.inject({ method: 'POST', url: path, headers: { 'content-type': contentType }, payload });
  let json: unknown;
  try {
    json = JSON.parse(res.body);
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, text: res.body, json };
}

/** Text that betrays a stack trace or a source location. */
const STACK_TEXT = /\n\s*at\s|\bat\s+\S+\s+\(|node:internal|\.(?:ts|js|mjs):\d+|\/src\/|\/dist\//;

export interface SentReview {
  /** The parsed request body, when it was JSON. */
  body: unknown;
  path: string;
}

const isObject = (v: unknown): v is Record<string, any> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Every answer is either HTTP 200 with a well-formed AdmissionReview that echoes the request, or a
 * 4xx JSON error with `code` and `message`; never a 5xx, never a stack.
 */
export function expectWellFormedAnswer(answer: Answer, sent: SentReview): void {
  expect(answer.text, 'no stack trace or source path in the body').not.toMatch(STACK_TEXT);
  expect(answer.status, `status of ${answer.text.slice(0, 300)}`).toBeGreaterThanOrEqual(200);
  expect(answer.status, `never a 5xx: ${answer.text.slice(0, 300)}`).toBeLessThan(500);
  expect(answer.json, 'the body is JSON').toBeDefined();
  if (answer.status !== 200) {
    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(typeof answer.json.code).toBe('string');
    expect(typeof answer.json.message).toBe('string');
    return;
  }
  const review = answer.json;
  expect(review.kind).toBe('AdmissionReview');
  expect(REVIEW_VERSIONS).toContain(review.apiVersion);
  const request = isObject(sent.body) ? sent.body : {};
  if ((REVIEW_VERSIONS as readonly unknown[]).includes(request.apiVersion)) expect(review.apiVersion).toBe(request.apiVersion);
  expect(isObject(review.response)).toBe(true);
  const response = review.response;
  // A 200 answer carries the uid: it can only have come from the request.
  expect(typeof response.uid).toBe('string');
  expect(response.uid).toBe(isObject(request.request) ? request.request.uid : undefined);
  expect(typeof response.allowed).toBe('boolean');
  expect('patch' in response, 'patch and patchType both or neither').toBe('patchType' in response);
  if ('patch' in response) {
    expect(sent.path).not.toBe('/validate');
    expect(response.patchType).toBe('JSONPatch');
    const ops = JSON.parse(Buffer.from(response.patch, 'base64').toString('utf8'));
    expect(Array.isArray(ops)).toBe(true);
    expect(ops.length).toBeGreaterThan(0);
  }
  if (!response.allowed) {
    expect(response.status.code).toBeGreaterThanOrEqual(400);
    expect(typeof response.status.message).toBe('string');
  }
  if (response.warnings !== undefined) {
    for (const w of response.warnings) {
      expect(typeof w).toBe('string');
      expect(w.length).toBeLessThan(120);
    }
  }
}

/** What must not depend on key order: allowed, the set of cause field/reason pairs, warnings, patch ops. */
export function verdictOf(answer: Answer): unknown {
  if (answer.status !== 200) return { status: answer.status, code: answer.json?.code };
  const r = answer.json.response;
  const causes = ((r.status?.details?.causes ?? []) as Array<{ field: string; reason: string }>).map((c) => `${c.field}|${c.reason}`).sort();
  const warnings = ((r.warnings ?? []) as string[]).slice().sort();
  const ops = r.patch ? (JSON.parse(Buffer.from(r.patch, 'base64').toString('utf8')) as unknown[]).map(canonicalJson).sort() : [];
  return { allowed: r.allowed, code: r.status?.code, reason: r.status?.reason, causes, warnings, ops };
}

/** JSON text with object keys sorted, for comparing values regardless of key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isObject(value)) {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** A small deterministic PRNG (mulberry32), seeded by fast-check. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** JSON text of `value` with every object's keys in a shuffled order (arrays keep their order). */
export function shuffledJson(value: unknown, random: () => number): string {
  if (Array.isArray(value)) return `[${value.map((v) => shuffledJson(v, random)).join(',')}]`;
  if (isObject(value)) {
    const keys = Object.keys(value);
    for (let i = keys.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [keys[i], keys[j]] = [keys[j]!, keys[i]!];
    }
    return `{${keys.map((k) => `${JSON.stringify(k)}:${shuffledJson(value[k], random)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
