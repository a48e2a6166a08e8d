/**
 * Our own failure while judging an extension (a schema registry whose lookup throws, a compiled
 * schema that throws) is not "no schema registered": with `--unknown-extension-policy warn` that
 * used to leave rawConfig unvalidated, allowed, with no log. It must fail closed (denied, code 500,
 * like every internal error), be counted in backend_webhook_internal_errors_total and be logged.
 */
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { App } from '../../src/admission/app.js';
import { DEFAULT_VALIDATION_OPTIONS, type ValidationOptions } from '../../src/backend/options.js';
import { Metrics } from '../../src/observability/metrics.js';
import { documentsFromText } from '../../src/offline/documents.js';
import { judgeDocuments } from '../../src/offline/judge.js';
import type { ExtensionSchema, SchemaLookup } from '../../src/schemas/registry.js';
import { extensionSchema, inject, injectServer, TOOL_FILTER_SCHEMA, TOOL_FILTER_TYPE } from '../reliability/helpers.js';
import { StaticSchemaRegistry } from '../support/static-registry.js';
import { openaiBackend, review } from '../support/reviews.js';

const throwingLookup: SchemaLookup = {
  get() {
    throw new Error('registry exploded: secret detail');
  },
};

function throwingValidator(): SchemaLookup {
  const good = extensionSchema(TOOL_FILTER_TYPE, TOOL_FILTER_SCHEMA);
  const validate = Object.assign(
    (): boolean => {
      throw new RangeError('validator exploded: secret detail');
    },
    { errors: null },
  );
  const broken: ExtensionSchema = { ...good, validate };
  return { get: (type) => (type === TOOL_FILTER_TYPE ? broken : undefined) };
}

const withExtension = (): any => {
  const object = openaiBackend();
  object.spec.extensions = [{ name: 'tools', type: TOOL_FILTER_TYPE, rawConfig: { categories: ['nonsense'] } }];
  return object;
};

interface Harness {
  app: App;
  metrics: Metrics;
  logs: Array<Record<string, any>>;
}

let current: Harness | undefined;
afterEach(async () => {
  await current?.app.close();
  current = undefined;
});

async function harness(lookup: SchemaLookup, validation: Partial<ValidationOptions>): Promise<Harness> {
  const logs: Array<Record<string, any>> = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
  const metrics = new Metrics();
  const { app } = await injectServer({ registry: new StaticSchemaRegistry(lookup), logger, metrics, validation: { ...DEFAULT_VALIDATION_OPTIONS, ...validation } });
  current = { app, metrics, logs };
  return current;
}

async function internalErrors(metrics: Metrics, source: string): Promise<number> {
  const metric = await metrics.registry.getSingleMetric('backend_webhook_internal_errors_total')!.get();
  return metric.values.find((v) => v.labels.source === source)?.value ?? 0;
}

describe.each([
  ['a schema lookup that throws', () => throwingLookup, 'schema-lookup'],
  ['a compiled schema that throws', throwingValidator, 'schema-validate'],
])('%s', (_name, lookup, source) => {
  it.each(['warn', 'deny'] as const)('--unknown-extension-policy %s: denied with code 500, counted, logged', async (policy) => {
    const h = await harness(lookup(), { unknownExtensionPolicy: policy });
    const body = review(withExtension());
    const res = await inject(h.app, '/validate', JSON.stringify(body));
    expect(res.status).toBe(200);
    expect(res.json.response).toMatchObject({ uid: body.request.uid, allowed: false, status: { code: 500, reason: 'InternalError' }, auditAnnotations: { 'internal-error': 'true' } });
    expect(res.json.response.warnings).toBeUndefined();
    expect(res.text).not.toMatch(/secret detail/);
    expect(await internalErrors(h.metrics, source)).toBe(1);
    const logged = h.logs.find((l) => l.level === 50 && l.uid === body.request.uid);
    expect(logged, JSON.stringify(h.logs)).toBeDefined();
    expect(JSON.stringify(logged!.err)).toMatch(/secret detail/); // the cause, for the operator
  });

  it('a Backend without extensions is judged as usual (the lookup is never asked)', async () => {
    const h = await harness(lookup(), { unknownExtensionPolicy: 'warn' });
    const res = await inject(h.app, '/validate', JSON.stringify(review(openaiBackend())));
    expect(res.json.response.allowed).toBe(true);
    expect(await internalErrors(h.metrics, source)).toBe(0);
  });

  it('offline, the object is reported as not admitted, with the reason', () => {
    const text = JSON.stringify(withExtension());
    const { documents } = documentsFromText('backend.json', text);
    const [result] = judgeDocuments(documents, {
      handler: { schemas: lookup(), options: { ...DEFAULT_VALIDATION_OPTIONS, unknownExtensionPolicy: 'warn' } },
      configMapReviewers: [],
      strict: false,
      showDefaults: false,
    });
    expect(result!.outcome).toBe('invalid');
    expect(result!.errors).toEqual([expect.objectContaining({ reason: 'InternalError', message: expect.stringMatching(/failed while judging this object/) })]);
  });
});
